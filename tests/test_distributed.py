"""Data-parallel and task-parallel training in real processes over torch.distributed (gloo, CPU).

Each launch starts 2 or 3 worker processes (tests/distributed_worker.py) that rendezvous on
127.0.0.1 at a free port. The module-scoped fixtures launch once and many tests read the
results; the single-process references run in the test process.
"""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.distributed as dist  # noqa: E402

from pmo_grad import cli  # noqa: E402
from pmo_grad.problems.distributed import Communicator, RankFailedError  # noqa: E402
from tests import distributed_worker as worker  # noqa: E402

pytestmark = pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(),
                                reason="needs torch.distributed with the gloo backend")

ROOT = Path(__file__).resolve().parents[1]
WORKER = str(ROOT / "tests" / "distributed_worker.py")

TWO_RANK_CASES = ["psmgd", "psmgd_adam", "mgda_full", "linear", "psmgd_vr", "stimulus", "representation", "loop",
                  "task_parallel", "task_parallel_vr", "batch_norm", "skip", "seedless", "rejections", "resume=5"]
THREE_RANK_CASES = ["psmgd", "mgda_full", "psmgd_vr", "representation", "task_parallel", "task_parallel_vr",
                    "batch_norm", "resume=9"]
COMPARED = ["psmgd", "psmgd_adam", "mgda_full", "linear", "psmgd_vr", "stimulus", "representation", "loop",
            "task_parallel", "task_parallel_vr"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker_env(**extra) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", **extra}
    if os.path.exists("/sys/class/net/lo"):
        env["GLOO_SOCKET_IFNAME"] = "lo"  # keep gloo's sockets on the loopback interface
    return env


def torchrun(nproc: int, args: list[str], cwd=ROOT, timeout=400) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={nproc}", "--nnodes=1",
               "--master_addr=127.0.0.1", f"--master_port={free_port()}", *args]
    done = subprocess.run(command, cwd=cwd, env=worker_env(), capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-6000:]
    return done


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Launch 2 ranks, then 3 ranks (which resume the 2-rank checkpoint); return the output folder."""
    out = tmp_path_factory.mktemp("ranks")
    for nproc, cases in ((2, TWO_RANK_CASES), (3, THREE_RANK_CASES)):
        folder = out / str(nproc)
        folder.mkdir()
        if nproc == 3:
            (folder / "run.ckpt").write_bytes((out / "2" / "run.ckpt").read_bytes())
        torchrun(nproc, [WORKER, "cases", str(folder), *cases])
    return out


def load(runs, nproc: int, name: str) -> dict:
    return torch.load(runs / str(nproc) / f"{name}.pt", weights_only=False)


_references: dict = {}


def reference(name: str, dropout: float, n_gen: int | None = None) -> dict:
    key = (name, dropout, n_gen)
    if key not in _references:
        _references[key] = worker.run_case(name, dropout=dropout, n_gen=n_gen)
    return _references[key]


def close(a, b, what: str) -> None:
    torch.testing.assert_close(torch.as_tensor(a), torch.as_tensor(b), rtol=1e-9, atol=1e-11, msg=lambda m: f"{what}: {m}")


@pytest.mark.parametrize("nproc", [2, 3])
def test_ranks_identical_after_every_step(runs, nproc):
    cases = [c for c in (TWO_RANK_CASES if nproc == 2 else THREE_RANK_CASES) if c != "rejections"]
    for name in cases:
        result = load(runs, nproc, name)
        assert result["world_size"] == nproc
        assert len(result["identical"]) >= 4, name
        assert all(result["identical"]), (name, result["identical"])


@pytest.mark.parametrize("nproc", [2, 3])
def test_data_parallel_equals_single_process(runs, nproc):
    # With 2 ranks every shard is a whole number of 4-sample micro-batches, so dropout (0.2)
    # draws the single process's masks. The 3-rank shards are not, so they run without dropout.
    dropout = 0.2 if nproc == 2 else 0.0
    for name in COMPARED if nproc == 2 else [c for c in THREE_RANK_CASES if c in COMPARED]:
        ranks, single = load(runs, nproc, name), reference(name, dropout)
        close(ranks["params"], single["params"], f"{name} parameters")
        close(ranks["F"], single["F"], f"{name} validation losses")
        for t, (a, b) in enumerate(zip(ranks["weights"], single["weights"])):
            if a is not None:
                close(a, b, f"{name} weights at generation {t + 1}")
        assert ranks["counters"]["n_grad"] == single["counters"]["n_grad"]
        assert ranks["counters"]["n_sample_grads"] == single["counters"]["n_sample_grads"]


def test_data_parallel_moves_parameters(runs):
    start = worker.case_problem("psmgd").parameter_vector()
    assert (load(runs, 2, "psmgd")["params"] - start).abs().max() > 1e-3


@pytest.mark.parametrize("nproc", [2, 3])
def test_task_split_matches_plain_path(runs, nproc):
    split, plain = load(runs, nproc, "task_parallel"), reference("loop", 0.2 if nproc == 2 else 0.0)
    refreshes = [t for t, w in enumerate(split["weights"]) if w is not None and t % 2 == 1]
    assert refreshes
    for t in refreshes:
        close(split["weights"][t], plain["weights"][t], f"weights at generation {t + 1}")
    # A refresh runs the batch of 16 in four micro-batches of 4; rank 0 backpropagates only its
    # ⌈3/k⌉ tasks through each, where one process backpropagates all 3.
    tasks_on_rank_0 = -(-3 // nproc)
    for t in refreshes:
        assert split["backward"][t] == 4 * tasks_on_rank_0, (t, split["backward"])
        assert plain["backward"][t] == 4 * 3
    assert split["traffic"][0].get("all_gather", 0) == len(refreshes)


def test_reuse_step_is_one_all_reduce(runs):
    result = load(runs, 2, "psmgd")
    calls, nbytes = result["traffic"]
    # 7 steps (refresh or reuse), the first and the final evaluation: one all-reduce each,
    # plus the broadcast of rank 0's parameters at the start.
    assert calls == {"broadcast": 1, "all_reduce": 9}
    n_params = result["params"].numel()
    linear = load(runs, 2, "linear")
    per_step = (linear["traffic"][1]["all_reduce"] - 2 * 8 * (3 + 4)) / 5
    assert per_step == 8 * (n_params + 3 + 4)  # float64 direction, 3 losses, 2 x 2 status entries


def test_batch_norm_statistics_agree(runs):
    for nproc in (2, 3):
        result = load(runs, nproc, "batch_norm")
        assert all(result["identical"])
        running_var = [b for b in result["buffers"] if b.is_floating_point()][1]
        assert not torch.allclose(running_var, torch.ones_like(running_var))


def test_nan_on_one_rank_skips_everywhere(runs):
    result = load(runs, 2, "skip")
    assert result["counters"]["n_skipped"] == 2
    assert all(result["identical"])
    assert np.all(np.isfinite(result["F"]))


def test_seed_none_takes_rank_0_generator(runs):
    result = load(runs, 2, "seedless")
    assert all(result["identical"])
    assert not torch.equal(result["params"], load(runs, 2, "psmgd")["params"])


def test_mismatched_ranks_are_rejected(runs):
    messages = load(runs, 2, "rejections")
    assert "different seeds (rank 0: 0, rank 1: 1)" in messages["seeds"]
    assert "the ranks disagree on data" in messages["data"]
    assert "do not split the data per rank" in messages["data"]
    assert "wall-clock termination" in messages["time"]
    assert "Minibatch(1) has 1 samples but the run has 2 ranks" in messages["batch"]


def test_checkpoint_resumes_on_three_ranks(runs):
    first, resumed = load(runs, 2, "resume=5"), load(runs, 3, "resume=9")
    straight = reference("psmgd_vr", 0.0, n_gen=9)
    assert not torch.equal(first["params"], resumed["params"])
    close(resumed["params"], straight["params"], "parameters after 5 generations on 2 ranks and 4 more on 3")
    close(resumed["F"], straight["F"], "validation losses")
    assert resumed["counters"]["n_sample_grads"] == straight["counters"]["n_sample_grads"]


def test_failing_rank_stops_all_ranks(tmp_path):
    port = free_port()
    started = time.monotonic()
    processes = [
        subprocess.Popen([sys.executable, WORKER, "fail", str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True,
                         env=worker_env(RANK=str(r), LOCAL_RANK=str(r), WORLD_SIZE="2", MASTER_ADDR="127.0.0.1",
                                        MASTER_PORT=str(port)))
        for r in range(2)
    ]
    try:
        outputs = [p.communicate(timeout=120) for p in processes]
    finally:
        for p in processes:
            if p.poll() is None:
                p.kill()
    assert time.monotonic() - started < 120
    assert [p.returncode for p in processes] == [1, 1]
    rank_0, rank_1 = outputs[0][1], outputs[1][1]
    assert "RankFailedError: rank 1 failed during" in rank_0
    assert "CUDA out of memory while computing the loss (simulated)" in rank_0
    assert "RuntimeError: CUDA out of memory" in rank_1
    assert "raised on rank 1 of 2" in rank_1


TRAIN = ["train", "--data", "multidigits", "--algorithm", "psmgd", "--q", "3", "--n-gen", "7", "--batch-size", "32",
         "--hidden", "16", "--lr", "0.03", "--device", "cpu", "--quiet"]


def test_train_command_two_ranks_equals_one(tmp_path, capsys):
    done = torchrun(2, ["-m", "pmo_grad", *TRAIN, "--out", str(tmp_path / "two")], cwd=tmp_path)
    assert done.stdout.count("trained on 2 process(es)") == 1
    assert cli.main([*TRAIN, "--out", str(tmp_path / "one")]) == 0
    assert "trained on 1 process(es)" in capsys.readouterr().out
    one = json.loads((tmp_path / "one" / "validation.json").read_text())
    two = json.loads((tmp_path / "two" / "validation.json").read_text())
    assert two["world_size"] == 2
    assert one["world_size"] == 1
    for task in ("left", "right"):
        assert two["validation_loss"][task] == pytest.approx(one["validation_loss"][task], rel=1e-5)
    from pmo_grad.problems.datasets import multi_digits_problem

    untrained = multi_digits_problem(hidden=(16,), model_seed=1).evaluation_losses().tolist()
    assert one["validation_loss"]["left"] < untrained[0] - 0.05
    assert one["validation_loss"]["right"] < untrained[1] - 0.05
    a = torch.load(tmp_path / "one" / "parameters.pt")
    b = torch.load(tmp_path / "two" / "parameters.pt")
    for name in a:
        torch.testing.assert_close(b[name], a[name], rtol=1e-4, atol=1e-5)


def test_compare_under_torchrun_runs_on_rank_0(tmp_path):
    done = torchrun(2, ["-m", "pmo_grad", "compare", "--problems", "quadratic", "--algorithms", "psmgd",
                        "--seeds", "1", "--pop-size", "4", "--n-gen", "3", "--quiet", "--out", str(tmp_path / "cmp")],
                    cwd=tmp_path)
    assert done.stdout.count("### quadratic") == 1
    assert (tmp_path / "cmp" / "summary.csv").exists()


@pytest.mark.parametrize(
    "options, error, match",
    [
        ({"distributed": True}, RuntimeError, "no torch.distributed process group is initialized"),
        ({"distributed": "yes"}, TypeError, "distributed must be None, True, False or a Communicator"),
        ({"task_parallel": True, "engine": "representation"}, ValueError, "Use engine='loop'"),
        ({"task_parallel": True, "distributed": False}, ValueError, "needs distributed=None or True"),
    ],
)
def test_distributed_options_are_checked(options, error, match):
    with pytest.raises(error, match=match):
        worker.problem(**options)


def test_communicator_needs_a_process_group():
    with pytest.raises(RuntimeError, match="call torch.distributed.init_process_group"):
        Communicator()
    assert issubclass(RankFailedError, RuntimeError)


@pytest.mark.parametrize(
    "args, match",
    [
        (["--batch-size", "0"], "batch_size must be >= 1, got 0"),
        (["--hidden", "0"], "invalid layer widths '0'"),
        (["--lr", "-1"], "lr must be a positive learning rate"),
        (["--algorithm", "nsga2"], "invalid choice: 'nsga2'"),
        (["--batch-size", "2000", "--n-gen", "2"], "batch_size 2000 exceeds the network problem's 1258 training samples"),
    ],
)
def test_train_command_rejects_bad_options(args, match, capsys):
    with pytest.raises(SystemExit):
        cli.main(["train", *args])
    assert match in capsys.readouterr().err
