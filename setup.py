from setuptools import find_packages, setup

setup(
    name="merchant-insights",
    version="0.1.0",
    description="Lakehouse that turns commerce events into per-merchant hourly and daily metrics",
    python_requires=">=3.11,<3.12",
    packages=find_packages(include=["jobs", "jobs.*"]),
    package_data={"jobs": ["conf/*"]},
    # Exact pins live in requirements.txt; these ranges only keep a plain `pip install .` sane.
    install_requires=[
        "pyspark>=4.1,<4.2",
        "delta-spark>=4.4,<4.5",
        "numpy>=2",
        "pyarrow>=20",
        "confluent-kafka>=2.6",
        "boto3>=1.35",
        # GX's Spark support caps pyspark below 4.2; pandas 3 is not yet what pyspark 4.1 was tested with
        "great_expectations>=1.24,<2",
        "pandas>=2.2,<3",
        # the v1 API (/write, InfluxQL), which InfluxDB 1.6 serves; influxdb-client speaks only v2
        "influxdb>=5.3,<6",
        "tenacity>=9,<10",
        # elasticsearch-py 8/9 refuse a server that is not Elastic's; the calls used are the APIs both share
        "opensearch-py>=3.2,<4",
        # serving: the ingestion API (uvicorn's "standard" speed-ups: uvloop and httptools)
        "starlette>=1.10,<2",
        "uvicorn>=0.55,<1",
        "uvloop>=0.21",
        "httptools>=0.6",
        "prometheus-client>=0.21,<1",
        "msgspec>=0.19,<1",
        "httpx>=0.28,<1",
        "async-lru>=2.0,<3",
        # analysts: Trino's DB-API client, and what the notebooks plot with and are run by
        "trino>=0.336,<1",
        "matplotlib>=3.10,<4",
        "nbclient>=0.10,<1",
        "nbformat>=5.10,<6",
        "ipykernel>=6.29,<8",
    ],
    entry_points={"console_scripts": ["lakehouse=jobs.cli:main"]},
)
