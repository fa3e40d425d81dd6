"""The servers hold users to what they may do: each forbidden action is tried and refused, with nothing changed."""

from __future__ import annotations

import uuid

import pytest
from influxdb.exceptions import InfluxDBClientError

from jobs.runtime.settings import Login, Secret
from jobs.services.influxdb import ADMIN, PIPELINE, READER
from jobs.sinks import influx

POINT = "sales,merchant_id=m-1 orders=1i 1700000000"


def test_influxdb_refuses_each_user_what_it_may_not_do_and_nothing_changes(influxdb_service):
    database, other = f"auth_{uuid.uuid4().hex[:8]}", f"other_{uuid.uuid4().hex[:8]}"
    influxdb_service.create_database(database)
    url = influxdb_service.url
    pipeline, reader = (influx.client(url, influxdb_service.login(user)) for user in (PIPELINE, READER))
    pipeline.write_points([POINT], database=database, protocol="line", time_precision="s")
    anonymous = influx.client(url)
    wrong_password = influx.client(url, Login(PIPELINE, Secret("not-the-password")))
    other_point = "sales,merchant_id=m-2 orders=9i 1700000000"

    forbidden = {
        "write without a login": lambda: anonymous.write_points([other_point], database=database, protocol="line"),
        "read without a login": lambda: anonymous.query("SELECT * FROM sales", database=database),
        "write with a wrong password": lambda: wrong_password.write_points(
            [other_point], database=database, protocol="line"
        ),
        "reader writes": lambda: reader.write_points([other_point], database=database, protocol="line"),
        "reader deletes": lambda: reader.query("DELETE FROM sales", database=database, method="POST"),
        "reader drops the measurement": lambda: reader.query(
            "DROP MEASUREMENT sales", database=database, method="POST"
        ),
        "pipeline creates a database": lambda: pipeline.create_database(other),
        "pipeline drops its database": lambda: pipeline.drop_database(database),
        "pipeline creates an admin": lambda: pipeline.create_user("intruder", "x", admin=True),
        "pipeline grants itself more": lambda: pipeline.grant_admin_privileges(PIPELINE),
        "reader grants itself write": lambda: reader.grant_privilege("write", database, READER),
    }
    for action, attempt in forbidden.items():
        with pytest.raises(InfluxDBClientError) as refused:
            attempt()
        assert refused.value.code in (401, 403), f"{action}: {refused.value}"

    points = list(reader.query("SELECT * FROM sales", database=database).get_points())
    assert points == [{"time": "2023-11-14T22:13:20Z", "merchant_id": "m-1", "orders": 1}]
    admin = influx.client(url, influxdb_service.login(ADMIN))
    assert database in {row["name"] for row in admin.get_list_database()}
    assert other not in {row["name"] for row in admin.get_list_database()}
    users = {row["user"]: row["admin"] for row in admin.get_list_users()}
    assert users == {ADMIN: True, PIPELINE: False, READER: False}
    assert {row["database"]: row["privilege"] for row in admin.get_list_privileges(READER)}[database] == "READ"
