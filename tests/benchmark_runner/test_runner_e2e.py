"""The benchmark runner end to end through real service processes (offline profile), including a kill -9 resume."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest

from fashionedit.client.benchmark import RunConfig, write_report
from fashionedit.client.benchmark.runner import BenchmarkRunner, load_records
from fashionedit.client.dataset import BuildConfig, DatasetBuilder, load_dataset
from fashionedit.client.local import TARGETS
from fashionedit.contracts.benchmark import CLIP_UNAVAILABLE_TEXT
from fashionedit.flats import write_synthetic_dataset
from tests.support.locks import folder_held_by_another_process
from tests.support.servers import BentoServer
from tests.support.stack import OFFLINE_ENV

pytestmark = pytest.mark.integration

SIZE = 128


def bench_run(dataset_dir, out, *options: str) -> list[str]:
    """The `fashionedit bench run` command line a person types, for ``dataset_dir`` into ``out``."""
    return [sys.executable, "-m", "fashionedit.client.cli", "bench", "run", "-d", str(dataset_dir), "-o", str(out), *options]


def cli_env(service_stack, **extra: str) -> dict[str, str]:
    """This process's environment pointed at the test stack (``extra`` overrides, e.g. another editor's URL)."""
    return {**os.environ, **service_stack.client_env(), "HF_HUB_OFFLINE": "1", **extra}


@pytest.fixture(scope="module")
def dataset_dir(service_stack, tmp_path_factory):
    root = tmp_path_factory.mktemp("bench")
    write_synthetic_dataset(root / "src", 10, seed=11, image_size=(SIZE, SIZE))
    config = BuildConfig(
        source=root / "src",
        out=root / "ds",
        selection="all",
        drafts_from=root / "src/drafts",
        differences_from=root / "src/ground_truth.jsonl",
        image_size=SIZE,
        require_k=False,
        val_size=4,
        concurrency=4,
    )
    asyncio.run(DatasetBuilder(config, service_stack.client_settings()).run())
    return root / "ds"


async def test_rounds_chain_and_table(service_stack, dataset_dir, tmp_path):
    out = tmp_path / "run"
    # box="bug": the offline local editor places the reference crop in the difference's box (the paper's calls send none).
    config = RunConfig(
        dataset=dataset_dir, out=out, methods=["SD3", "Vanilla", "BUG"], concurrency=4, missing_difference="carry", box="bug"
    )
    meta = await BenchmarkRunner(config, service_stack.client_settings()).run()
    assert meta.offline and meta.services["editor"].backend == "local" and meta.services["scorer"].offline
    assert "fashionedit-client" in meta.versions and meta.config["concurrency"] == 4
    dataset = load_dataset(dataset_dir)
    records = load_records(out)
    val = {s.id: s for s in dataset.split("val")}
    assert len(val) == 4
    assert Counter((f, r) for (_, f, r) in records) == Counter(
        {("SD3", 0): 10, **{(f, r): 4 for f in ("Vanilla", "BUG") for r in (1, 2, 3)}}
    )
    for (item, family, rnd), record in records.items():
        assert record.status == "ok", record.error
        if family == "SD3":
            continue
        sample = val[item]
        differences = {d.index: d for d in sample.differences}
        if rnd in differences:  # round r applies difference r (1-based)
            assert not record.carried and record.instruction == differences[rnd].description
            assert record.reference == (differences[rnd].crop if family == "BUG" else None)
            assert record.prompt.endswith(differences[rnd].description)  # as the editor reports it sent it
        else:
            assert record.carried  # fewer planted differences than rounds: the previous output, unchanged
            previous = dataset.path(sample.draft) if rnd == 1 else out / records[(item, family, rnd - 1)].output
            assert (out / record.output).read_bytes() == previous.read_bytes()
        assert record.scores.psnr is not None and record.clip_status == "unavailable"
    report, paths = write_report(out)
    assert [r.method for r in report.rows] == ["SD3", "Vanilla(1)", "Vanilla(2)", "Vanilla(3)", "BUG(1)", "BUG(2)", "BUG(3)"]
    bug3 = next(r for r in report.rows if r.method == "BUG(3)")
    psnrs = [records[(i, "BUG", 3)].scores.psnr for i in sorted(val)]
    assert bug3.psnr == pytest.approx(sum(psnrs) / 4) and bug3.clip is None and bug3.n == 4
    md = paths["markdown"].read_text()
    assert "offline profile" in md and CLIP_UNAVAILABLE_TEXT in md
    assert json.loads(paths["json"].read_text())["label"].startswith("offline profile")
    sheet = (out / "sheets" / f"{sorted(val)[0]}.html").read_text()
    first = val[sorted(val)[0]]
    assert "Ground truth" in sheet and "BUG(3)" in sheet and "Vanilla(1)" in sheet
    assert first.differences[0].description.replace("'", "&#x27;") in sheet and first.differences[0].crop.split("/")[-1] in sheet


def test_kill_9_resumes_without_losing_or_repeating(service_stack, dataset_dir, tmp_path):
    out = tmp_path / "run"
    env = cli_env(service_stack)
    argv = bench_run(
        dataset_dir,
        out,
        "-m",
        "SD3",
        "-m",
        "Vanilla",
        "-m",
        "BUG",
        "-c",
        "1",
        "--missing-difference",
        "carry",
        "--box",
        "bug",
        "--no-progress",
        "--no-report",
    )
    proc = subprocess.Popen(argv, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    log = out / "records.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if log.exists() and log.read_text().count("\n") >= 12:
            break
        time.sleep(0.05)
    assert proc.poll() is None, f"the run ended before it could be killed: {proc.stderr.read().decode()[-2000:]}"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    torn = out / "images" / "SD3" / ".round0.png.k9x2.tmp"  # what a kill between write and rename leaves
    torn.parent.mkdir(parents=True, exist_ok=True)
    torn.write_bytes(b"half a png")
    before = log.read_bytes()
    finished_before = [json.loads(line) for line in before.decode().splitlines() if line.endswith("}")]
    assert 12 <= len(finished_before) < 34
    subprocess.run(argv, env=env, check=True, timeout=240, capture_output=True)
    after = log.read_bytes()
    assert after.startswith(before.rsplit(b"\n", 1)[0])  # nothing finished was rewritten
    lines = [json.loads(line) for line in after.decode().splitlines()]
    keys = Counter((r["item_id"], r["family"], r["round"]) for r in lines)
    assert max(keys.values()) == 1, [k for k, n in keys.items() if n > 1]  # nothing repeated
    assert len(keys) == 10 + 2 * 4 * 3 and all(r["status"] == "ok" for r in lines)  # nothing lost
    meta = json.loads((out / "run.json").read_text())
    assert len(meta["resumed"]) == 1 and meta["finished_at"]
    assert not list(out.rglob("*.tmp"))  # the resumed run swept what the killed one left half-written


def test_a_second_run_into_a_folder_in_use_stops_at_once_and_writes_nothing(service_stack, dataset_dir, tmp_path):
    out = tmp_path / "run"
    with folder_held_by_another_process(out) as holder:
        env = cli_env(service_stack, COLUMNS="400")
        argv = bench_run(dataset_dir, out, "-m", "SD3", "--no-progress")
        result = subprocess.run(argv, env=env, timeout=120, capture_output=True, text=True)
    assert result.returncode == 1
    assert f"in use: benchmark run {out} is being changed by another fashionedit process (pid {holder.pid})" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == [".lock"]


@pytest.mark.parametrize("random_sd3", ["false", "true"])  # "true": a random SD3 built at start-up, in a temp folder
def test_a_run_resumes_after_the_editor_restarts(service_stack, dataset_dir, tmp_path, random_sd3):
    """A restarted service of the same configuration is the same model: resuming is not refused."""
    out = tmp_path / "run"
    argv = bench_run(
        dataset_dir,
        out,
        "-m",
        "Vanilla",
        "--rounds",
        "1",
        "--limit",
        "1",
        "--missing-difference",
        "carry",
        "--no-progress",
        "--no-report",
    )
    runs = []
    for attempt in (1, 2):  # the same editor configuration, a fresh process each time
        editor_env = {**OFFLINE_ENV["editor"], "FASHIONEDIT_EDITOR_LOCAL_RANDOM_SD3": random_sd3}
        editor = BentoServer(TARGETS["editor"], env=editor_env, log_path=tmp_path / f"editor{attempt}.log", startup_timeout=240)
        with editor:
            env = cli_env(service_stack, FASHIONEDIT_EDITOR_URL=editor.url)
            runs.append(subprocess.run(argv, env=env, timeout=240, capture_output=True, text=True))
    assert [run.returncode for run in runs] == [0, 0], runs[-1].stderr[-2000:]
    meta = json.loads((out / "run.json").read_text())
    assert len(meta["resumed"]) == 1 and meta["services"]["editor"]["backend"] == "local"
    assert meta["services"]["editor"]["random_weights"] is (random_sd3 == "true")
