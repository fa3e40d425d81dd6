"""S3 settings: what a user sets becomes Spark's S3A options, and a bad location or endpoint is a usage error."""

from __future__ import annotations

import argparse

import pytest

from jobs.runtime.session import s3a_options
from jobs.runtime.settings import UsageError, settings_from


def settings(**env: str):
    return settings_from(argparse.Namespace(), env=env)


def test_a_server_of_our_own_is_reached_path_style_with_its_keys(tmp_path):
    secret = tmp_path / "s3.password"
    secret.write_text("the-secret-key\n")
    options = s3a_options(
        settings(
            LAKEHOUSE_WAREHOUSE="s3a://lake/prefix/warehouse/",
            LAKEHOUSE_S3_ENDPOINT="http://127.0.0.1:19000/",
            LAKEHOUSE_S3_USER="access-key-id",
            LAKEHOUSE_S3_PASSWORD_FILE=str(secret),
        )
    )
    assert options == {
        "endpoint.region": "us-east-1",
        "endpoint": "http://127.0.0.1:19000",
        "path.style.access": "true",
        "connection.ssl.enabled": "false",
        "aws.credentials.provider": "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
        "access.key": "access-key-id",
        "secret.key": "the-secret-key",
    }


def test_on_aws_only_the_region_is_set_and_the_default_credential_chain_is_left_alone():
    configured = settings(LAKEHOUSE_WAREHOUSE="s3a://lake/warehouse", LAKEHOUSE_S3_REGION="eu-west-1")
    assert configured.warehouse == "s3a://lake/warehouse"
    assert s3a_options(configured) == {"endpoint.region": "eu-west-1"}
    assert s3a_options(settings(LAKEHOUSE_S3_ENDPOINT="https://s3.example:443"))["connection.ssl.enabled"] == "true"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"LAKEHOUSE_WAREHOUSE": "s3://lake/warehouse"}, "LAKEHOUSE_WAREHOUSE must be a local path or s3a://"),
        ({"LAKEHOUSE_CHECKPOINTS": "gs://lake/checkpoints"}, "LAKEHOUSE_CHECKPOINTS must be a local path or s3a://"),
        ({"LAKEHOUSE_S3_ENDPOINT": "127.0.0.1:19000"}, "LAKEHOUSE_S3_ENDPOINT must be http(s)://<host>:<port>"),
        ({"LAKEHOUSE_S3_ENDPOINT": "http://127.0.0.1:19000/a path"}, "LAKEHOUSE_S3_ENDPOINT must be http(s)://"),
        ({"LAKEHOUSE_S3_PASSWORD": "secret"}, "LAKEHOUSE_S3_PASSWORD is set but LAKEHOUSE_S3_USER is not"),
        ({"LAKEHOUSE_S3_USER": "access-key-id"}, "LAKEHOUSE_S3_USER is set but neither LAKEHOUSE_S3_PASSWORD nor"),
        ({"LAKEHOUSE_WAREHOUSE": "file:///tmp/warehouse"}, "LAKEHOUSE_WAREHOUSE must be a local path or s3a://"),
    ],
)
def test_a_bad_s3_setting_is_a_usage_error(env, message):
    with pytest.raises(UsageError) as refused:
        settings(**env)
    assert message in str(refused.value)
