"""floe_pipeline - Floe's landing_to_processed DAG on Apache Airflow 3 (and
Amazon MWAA): the same tasks as the built-in scheduler (`floe run`),

    sense -> claim -> load -> transform -> unload -> finalize

each one `floe task <name>` run by a BashOperator (sense by a BashSensor).
Floe keeps the state: every attempt is recorded in its state database, a
task that already succeeded is skipped, so Airflow retries are safe.

Batch id: claim names the batch after the run id ("af-" + run id, made
key-safe), so a retried claim finishes the same batch instead of claiming
a second one; claim prints it and the later tasks take it from XCom.
Exit codes: floe task exits 3 when nothing is pending (claim then skips
the rest of the run); Floe never exits 99, and 99 means nothing special
here (skip_on_exit_code is set explicitly). The run id is used, never
{{ ds }}: a manually triggered Airflow 3 run has no logical date. No task
passes env= (in Airflow 3 it replaces the whole environment unless
append_env=True): every setting goes on floe's command line, shell-quoted.

Configuration, first found wins:
  per run:     DAG params (Trigger DAG w/ config): floe_bin, config, lake,
               state_dir, engine, max_objects
  Airflow:     Variables floe_bin, floe_config, floe_lake, floe_state_dir,
               floe_engine, floe_max_objects
  environment: FLOE_BIN, FLOE_CONFIG, FLOE_LAKE, FLOE_STATE_DIR,
               FLOE_ENGINE, FLOE_MAX_OBJECTS (as the DAG processor sees it)
  else:        floe on PATH; floe.yaml / floe's own defaults.
Parse-time settings (Variable, then environment): floe_schedule /
FLOE_SCHEDULE (cron or preset, "none" for manual runs only; default
"*/15 * * * *"), floe_retries / FLOE_RETRIES (Airflow retries per task,
default 2), floe_retry_delay / FLOE_RETRY_DELAY (seconds, default 30),
floe_sense_timeout / FLOE_SENSE_TIMEOUT (seconds the sensor waits for
landing objects before the run is skipped, default 600).
"""
from __future__ import annotations

import hashlib
import os
import re
import shlex
from datetime import datetime, timedelta, timezone

from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.sensors.bash import BashSensor
from airflow.sdk import DAG, Param

DAG_ID = "floe_pipeline"
EXIT_NOTHING_PENDING = 3  # floe task's default --empty-exit
BATCH_ID_MAX = 64         # floe's batch ids: [A-Za-z0-9._-]{1,64}

# Per-run settings: (param / Variable suffix, environment variable, option).
SETTINGS = (
    ("floe_bin", "FLOE_BIN", None),
    ("config", "FLOE_CONFIG", None),
    ("lake", "FLOE_LAKE", "--lake"),
    ("state_dir", "FLOE_STATE_DIR", "--state-dir"),
    ("engine", "FLOE_ENGINE", "--engine"),
    ("max_objects", "FLOE_MAX_OBJECTS", "--max-objects"),
)


def parse_setting(name, env, default):
    """A parse-time setting: Variable floe_<name>, else $env, else default.
    Variables are read through the Task SDK; where no Airflow metadata is
    reachable (a bare import) the environment decides."""
    try:
        from airflow.sdk import Variable

        value = Variable.get(f"floe_{name}", default=None)
    except Exception:  # no API server / DB at parse time: fall back
        value = None
    if value is None or value == "":
        value = os.environ.get(env, default)
    return value


def batch_id(run_id):
    """'af-' + the run id with every character floe refuses made '-';
    a hash suffix keeps long ids unique within 64 bytes."""
    text = re.sub(r"[^A-Za-z0-9._-]", "-", f"af-{run_id}")
    if len(text) > BATCH_ID_MAX:
        digest = hashlib.sha256(run_id.encode()).hexdigest()[:10]
        text = f"{text[:BATCH_ID_MAX - 11]}-{digest}"
    return text


def setting(name):
    """Jinja: the run param, else the Variable, else the parse-time
    environment value ('' when none)."""
    env = dict((n, e) for n, e, _ in SETTINGS)[name]
    fallback = os.environ.get(env, "")
    return (f"(params.{name} or var.value.get('floe_{name}', "
            f"{fallback!r}))")


def floe_command(task, batch=None, extra=""):
    """The bash command of one task: floe [--config F] task <task> [opts]."""
    opts = "".join(
        f"{{% if {setting(n)} %}} {o} {{{{ {setting(n)} | sh }}}}"
        f"{{% endif %}}" for n, _, o in SETTINGS if o)
    cmd = (f"{{{{ ({setting('floe_bin')} or 'floe') | sh }}}}"
           f"{{% if {setting('config')} %}} --config "
           f"{{{{ {setting('config')} | sh }}}}{{% endif %}}"
           f" task {task}{opts} --retries 0")
    if batch is not None:
        cmd += f" --batch {batch}"
    # A trailing space: a command ending in .sh would be read as a file.
    return f"{cmd}{extra} "


def shell_quote(value):
    return shlex.quote(str(value))


SCHEDULE = parse_setting("schedule", "FLOE_SCHEDULE", "*/15 * * * *")
RETRIES = int(parse_setting("retries", "FLOE_RETRIES", "2"))
RETRY_DELAY = float(parse_setting("retry_delay", "FLOE_RETRY_DELAY", "30"))
SENSE_TIMEOUT = float(parse_setting("sense_timeout", "FLOE_SENSE_TIMEOUT",
                                    "600"))

with DAG(
    dag_id=DAG_ID,
    description="Floe: landing -> processing -> warehouse -> processed",
    schedule=None if SCHEDULE.lower() in ("", "none") else SCHEDULE,
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,  # floe's runner lock serialises tasks anyway
    params={name: Param("", type="string") for name, _, _ in SETTINGS},
    user_defined_filters={"sh": shell_quote, "floe_batch_id": batch_id},
    default_args={
        "retries": RETRIES,
        "retry_delay": timedelta(seconds=RETRY_DELAY),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=5),
    },
    tags=["floe"],
    doc_md=__doc__,
) as dag:
    # Pokes until landing/ holds something claimable; a timeout skips the
    # run (soft_fail), anything but "nothing pending" fails it.
    sense = BashSensor(
        task_id="sense",
        bash_command=floe_command("sense"),
        retry_exit_code=EXIT_NOTHING_PENDING,
        poke_interval=30,
        timeout=SENSE_TIMEOUT,
        mode="reschedule",
        soft_fail=True,
    )
    # Its stdout is the batch id alone (the XCom the others pull); exit 3
    # (another run took what was pending) skips the rest.
    claim = BashOperator(
        task_id="claim",
        bash_command=floe_command("claim",
                                  "{{ run_id | floe_batch_id | sh }}"),
        skip_on_exit_code=EXIT_NOTHING_PENDING,
    )
    steps = [sense, claim]
    for name in ("load", "transform", "unload", "finalize"):
        steps.append(BashOperator(
            task_id=name,
            bash_command=floe_command(
                name, "{{ ti.xcom_pull(task_ids='claim') | sh }}",
                " --json"),
            skip_on_exit_code=None,  # 99 is a failure like any other
        ))
    for up, down in zip(steps, steps[1:]):
        up >> down

if __name__ == "__main__":
    dag.test()
