"""Run in .venv-airflow by integration/test_dags.py: load dags/ as Airflow does and print what it found, as JSON."""

import json
import sys

from airflow.dag_processing.dagbag import DagBag


def task_facts(task) -> dict:
    return {
        "upstream": sorted(task.upstream_task_ids),
        "trigger_rule": str(task.trigger_rule.value),
        "retries": task.retries,
        "alerts": task.on_failure_callback is not None,
        "depends_on_past": task.depends_on_past,
        "pool": task.pool,
        "pool_slots": task.pool_slots,
    }


bag = DagBag(dag_folder=sys.argv[1])
facts = {
    "errors": {path: str(error) for path, error in bag.import_errors.items()},
    "seconds": {stat.file: stat.duration.total_seconds() for stat in bag.dagbag_stats},
    "dags": {
        dag_id: {
            "tasks": {task.task_id: task_facts(task) for task in dag.tasks},
            "timetable": type(dag.timetable).__name__,
            "cron": getattr(dag.timetable, "summary", None),
            "catchup": dag.catchup,
            "max_active_runs": dag.max_active_runs,
            "params": sorted(dag.params),
            "timeout_minutes": dag.dagrun_timeout.total_seconds() / 60 if dag.dagrun_timeout else None,
            "alerts": dag.has_on_failure_callback,
        }
        for dag_id, dag in bag.dags.items()
    },
}
print(json.dumps(facts))
