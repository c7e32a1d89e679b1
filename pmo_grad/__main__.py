import sys

from pmo_grad.cli import main

sys.exit(main())
