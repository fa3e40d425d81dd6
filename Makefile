# The one entry point for people and CI. `make demo` and `make test` work on a fresh clone; `make help` lists the rest.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
AIRFLOW_VENV := .venv-airflow
CHECKOV_VENV := .venv-checkov
JARS   := .jars
SERVICES := .services
DEMO   := demo
SPARK_CONF := $(VENV)/lib/python3.11/site-packages/pyspark/conf
BENCH_EVENTS ?= 2000000
# Spark's parent pom names a Maven Central mirror on Google Cloud that is unreachable here: .mvn/settings.xml points
# that id back at Maven Central.
MVN    := mvn --batch-mode --quiet --settings $(CURDIR)/.mvn/settings.xml
UV_VERSION := 0.13.9
UV_INSTALL := $(BIN)/uv pip install --quiet --python
DASHBOARD := jobs/serving/dashboard
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

.PHONY: help setup setup-core dashboard chromium demo-portal bench-portal demo-s3 bench-s3 services services-up services-down demo notebooks demo-publish demo-stream test \
        test-fast test-slow test-heavy test-kill terraform-check lint bench bench-ingest bench-big-file freshness chaos clean

help: ## this list
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

setup: setup-core services $(AIRFLOW_VENV)/.installed dashboard chromium ## everything: venv, jars, services, Airflow, browser

setup-core: $(VENV)/.installed $(JARS)/.resolved ## the venv and Spark's jars: all that make test-fast needs

# The venv is rebuilt whenever the pins or setup.py change. uv installs the pins (pip took five minutes of setup,
# uv one); pip only installs uv.
$(VENV)/.installed: requirements.txt setup.py
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required, found " + sys.version' 
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(UV_INSTALL) $(BIN)/python -r requirements.txt
	$(UV_INSTALL) $(BIN)/python --no-deps -e .
	touch $@

# Airflow in a venv of its own (see requirements-airflow.txt); `lakehouse airflow ...` runs its CLI.
$(AIRFLOW_VENV)/.installed: requirements-airflow.txt $(VENV)/.installed
	$(PYTHON) -m venv $(AIRFLOW_VENV)
	$(UV_INSTALL) $(AIRFLOW_VENV)/bin/python -r requirements-airflow.txt
	touch $@

# checkov in a venv of its own: it pins bc-python-hcl2, which installs the same `hcl2` module as python-hcl2.
$(CHECKOV_VENV)/.installed: requirements-checkov.txt $(VENV)/.installed
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(UV_INSTALL) $(CHECKOV_VENV)/bin/python -r requirements-checkov.txt
	touch $@

# The dashboard's chart library, from npm with its lock file, served by the portal itself (no CDN).
dashboard: $(DASHBOARD)/node_modules/.installed
$(DASHBOARD)/node_modules/.installed: $(DASHBOARD)/package.json $(DASHBOARD)/package-lock.json
	cd $(DASHBOARD) && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

# Debian's Chromium, which the browser tests drive with Playwright (Playwright's own browser download fails here).
chromium:
	@command -v chromium >/dev/null || ($(SUDO) apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium)

# Delta's jars, resolved by Maven from pom.xml into a git-ignored folder (no Ivy download at session start).
# jobs/runtime/session.py hands them to sessions it builds; spark-defaults.conf in the venv's pyspark hands them to
# `spark-submit jobs/<job>.py`, whose driver JVM starts before the job's code runs.
# The event validator (jobs/transforms/jvm/) is compiled there too, against pyspark's own jars.
VALIDATOR_SOURCES := $(wildcard jobs/transforms/jvm/insights/*.java)
$(JARS)/.resolved: pom.xml .mvn/settings.xml $(VALIDATOR_SOURCES) $(VENV)/.installed
	rm -rf $(JARS)
	$(MVN) dependency:copy-dependencies -DoutputDirectory=$(JARS) \
	    -DincludeGroupIds=io.delta,io.unitycatalog,org.apache.spark,org.apache.kafka,org.apache.commons,org.apache.hadoop,software.amazon.awssdk,software.amazon.eventstream,org.reactivestreams \
	    -DexcludeArtifactIds=hadoop-client-api,hadoop-client-runtime
	javac --release 17 -Xlint:all,-path -cp '$(VENV)/lib/python3.11/site-packages/pyspark/jars/*' \
	    -d $(JARS)/validator $(VALIDATOR_SOURCES)
	jar cf $(JARS)/insights-validator.jar -C $(JARS)/validator . && rm -rf $(JARS)/validator
	mkdir -p $(SPARK_CONF)
	echo "spark.jars $$(ls $(CURDIR)/$(JARS)/*.jar | paste -sd, -)" > $(SPARK_CONF)/spark-defaults.conf
	echo "spark.driver.extraJavaOptions -Dlog4j.configurationFile=file:$(CURDIR)/jobs/conf/log4j2.properties" \
	    >> $(SPARK_CONF)/spark-defaults.conf
	touch $@

# What the local services run (jobs/services/): Kafka's jars resolved by Maven from jobs/services/kafka/pom.xml,
# kinesalite installed by `npm ci` from jobs/services/kinesis/package-lock.json, InfluxDB's Debian package,
# OpenSearch's jars (Maven, jobs/services/opensearch/pom.xml), Trino's server (Maven), all into .services/
# (git-ignored).
# `lakehouse services fetch` writes each stamp; it is the same code that `services up` and the test fixtures run.
services: $(SERVICES)/kafka/.fetched $(SERVICES)/kinesis/.fetched $(SERVICES)/influxdb/.fetched \
          $(SERVICES)/opensearch/.fetched $(SERVICES)/trino/.fetched $(SERVICES)/s3/.fetched

$(SERVICES)/kafka/.fetched: jobs/services/kafka/pom.xml $(VENV)/.installed
	$(BIN)/lakehouse services fetch kafka

# InfluxDB from Debian's package, unpacked (not installed) by `apt-get download` and `dpkg-deb -x`.
$(SERVICES)/influxdb/.fetched: jobs/services/influxdb/package.txt $(VENV)/.installed
	$(BIN)/lakehouse services fetch influxdb

$(SERVICES)/opensearch/.fetched: jobs/services/opensearch/pom.xml $(VENV)/.installed
	$(BIN)/lakehouse services fetch opensearch

# s3proxy's jars (Maven, jobs/services/s3/pom.xml): the local S3 server.
$(SERVICES)/s3/.fetched: jobs/services/s3/pom.xml $(VENV)/.installed
	$(BIN)/lakehouse services fetch s3

# Trino's server tarball (Maven, jobs/services/trino/pom.xml), of which the folders in unpacked.txt are
# unpacked (libraries, Delta Lake, password files); it runs on the Temurin 25 JDK.
$(SERVICES)/trino/.fetched: jobs/services/trino/pom.xml jobs/services/trino/unpacked.txt $(VENV)/.installed
	$(BIN)/lakehouse services fetch trino

$(SERVICES)/kinesis/.fetched: jobs/services/kinesis/package.json jobs/services/kinesis/package-lock.json \
                              $(VENV)/.installed
	$(BIN)/lakehouse services fetch kinesis

# Kafka on 127.0.0.1:19092 and Kinesis on 127.0.0.1:14567 until `make services-down`; state and logs under .run/.
# The same pipeline fed by a real Kafka broker: 60,000 generator events sent at 2,000/s, then an hourly-style run.
STREAM_SOURCE := kafka:127.0.0.1:19092/demo-events
demo-stream: setup ## the pipeline fed by a local Kafka broker
	rm -rf $(DEMO)-stream
	$(BIN)/lakehouse services up kafka
	$(BIN)/python -c 'from jobs.services import kafka; kafka.create_topic("demo-events", 4)'
	$(BIN)/lakehouse produce --source $(STREAM_SOURCE) --rate 2000 --duration 30
	$(BIN)/lakehouse run --source $(STREAM_SOURCE) --warehouse $(DEMO)-stream/warehouse \
	    --checkpoints $(DEMO)-stream/checkpoints
	$(BIN)/lakehouse report --warehouse $(DEMO)-stream/warehouse

services-up: setup ## start every local service on loopback (state and logs under .run/)
	$(BIN)/lakehouse services up

services-down: $(VENV)/.installed ## stop them
	$(BIN)/lakehouse services down

# `lakehouse services env trino` logs a shell in as Trino's analyst; registering tables is the pipeline's job.
AS_TRINO_PIPELINE := LAKEHOUSE_TRINO_USER=pipeline \
    LAKEHOUSE_TRINO_PASSWORD_FILE=$${LAKEHOUSE_RUN_DIR:-.run}/trino/secrets/pipeline.password

demo: setup ## the main job on 1,000,000 synthetic events, a report, and one Trino query
	rm -rf $(DEMO)
	@start=$$(date +%s); \
	$(BIN)/lakehouse generate --out $(DEMO)/landing --events 1000000 --hours 48 && \
	$(BIN)/lakehouse run --source files:$(DEMO)/landing --warehouse $(DEMO)/warehouse \
	    --checkpoints $(DEMO)/checkpoints && \
	$(BIN)/lakehouse report --warehouse $(DEMO)/warehouse && \
	$(BIN)/lakehouse services up trino && \
	eval "$$($(BIN)/lakehouse services env trino)" && \
	$(AS_TRINO_PIPELINE) $(BIN)/lakehouse trino-register --warehouse $(DEMO)/warehouse && \
	$(BIN)/lakehouse sql "SELECT merchant_id, date, currency, orders, net FROM analyst.merchant_daily_sales \
	    ORDER BY orders DESC, merchant_id LIMIT 5" && \
	echo "demo finished in $$(( $$(date +%s) - start )) s; tables under $(DEMO)/warehouse;" \
	    "Trino stays up for lakehouse sql and make notebooks (make services-down stops it)"

# The same demo with the warehouse and checkpoints on the local S3 server (s3proxy, bucket `lakehouse`), started
# afresh: its data is wiped first. Only the generated landing folder is on the local disk.
S3_DEMO := s3a://lakehouse/demo
demo-s3: setup ## the demo with warehouse and checkpoints on the local S3 server, read back by Trino
	rm -rf $(DEMO)-s3
	@start=$$(date +%s); \
	$(BIN)/lakehouse services up --fresh s3 && \
	$(BIN)/lakehouse services up trino && \
	eval "$$($(BIN)/lakehouse services env s3 trino)" && \
	$(BIN)/lakehouse generate --out $(DEMO)-s3/landing --events 1000000 --hours 48 && \
	$(BIN)/lakehouse run --source files:$(DEMO)-s3/landing --warehouse $(S3_DEMO)/warehouse \
	    --checkpoints $(S3_DEMO)/checkpoints && \
	$(BIN)/lakehouse report --warehouse $(S3_DEMO)/warehouse && \
	$(AS_TRINO_PIPELINE) $(BIN)/lakehouse trino-register --warehouse $(S3_DEMO)/warehouse && \
	$(BIN)/lakehouse sql "SELECT merchant_id, date, currency, orders, net FROM analyst.merchant_daily_sales \
	    ORDER BY orders DESC, merchant_id LIMIT 5" && \
	echo "demo-s3 finished in $$(( $$(date +%s) - start )) s; tables under $(S3_DEMO)/warehouse" \
	    "(on disk: .run/s3/data/lakehouse/demo); S3 and Trino stay up (make services-down stops them)"

# Run the analyst notebooks against the demo's warehouse in Trino; outputs in notebooks/executed/.
notebooks: setup ## run the analyst notebooks against the demo's warehouse in Trino
	test -d $(DEMO)/warehouse || $(MAKE) demo
	$(BIN)/lakehouse services up trino
	eval "$$($(BIN)/lakehouse services env trino)" && \
	    $(AS_TRINO_PIPELINE) $(BIN)/lakehouse trino-register --warehouse $(DEMO)/warehouse && \
	    $(BIN)/lakehouse notebooks

# Publish the demo's gold to a local InfluxDB and OpenSearch (started if not up), then search one merchant's
# products and read its hourly points back; `make services-down` stops them.
demo-publish: setup ## publish the demo's gold to a local InfluxDB and OpenSearch, then read it back
	test -d $(DEMO)/warehouse || $(MAKE) demo
	$(BIN)/lakehouse services up influxdb opensearch
	eval "$$($(BIN)/lakehouse services env influxdb opensearch)" && \
	    $(BIN)/lakehouse publish --sinks influxdb,opensearch --warehouse $(DEMO)/warehouse
	$(BIN)/lakehouse search --merchant m000000 "linen shirt" --size 5
	curl -sG http://127.0.0.1:18086/query -u "reader:$$(cat $${LAKEHOUSE_RUN_DIR:-.run}/influxdb/secrets/reader.password)" \
	    --data-urlencode db=merchant_insights --data-urlencode \
	    "q=SELECT events, orders, sessions FROM merchant_hourly WHERE merchant_id = 'm000000' LIMIT 3"; echo

# The demo's gold in the merchant portal: publish it (as demo-publish does), make a read key for one merchant, and
# serve the dashboard until Ctrl-C. The portal reads InfluxDB as `reader`, who may only read.
DEMO_MERCHANT := m000000
DEMO_LAST_DAY := 2026-11-02# the generator's default start, 2026-11-01, plus the demo's 48 hours
AS_INFLUXDB_READER := LAKEHOUSE_INFLUXDB_USER=reader \
    LAKEHOUSE_INFLUXDB_PASSWORD_FILE=$${LAKEHOUSE_RUN_DIR:-.run}/influxdb/secrets/reader.password
demo-portal: setup ## the demo's gold in the merchant portal: publish, a read key, the dashboard on :8081
	test -d $(DEMO)/warehouse || $(MAKE) demo
	$(BIN)/lakehouse services up influxdb opensearch
	eval "$$($(BIN)/lakehouse services env influxdb opensearch)" && \
	    $(BIN)/lakehouse publish --sinks influxdb,opensearch --warehouse $(DEMO)/warehouse
	@key=$$($(BIN)/lakehouse keys --keys $(DEMO)/keys.sqlite create --merchant $(DEMO_MERCHANT) --scope read | tail -1) && \
	echo && echo "  dashboard: http://127.0.0.1:8081/?ending=$(DEMO_LAST_DAY)" && \
	echo "  read key of $(DEMO_MERCHANT): $$key" && \
	echo "  e.g. curl -H 'Authorization: Bearer $$key' 'http://127.0.0.1:8081/v1/metrics/daily?from=2026-11-01&to=2026-11-03'" && \
	echo "  Ctrl-C stops the portal; make services-down stops InfluxDB and OpenSearch" && echo && \
	eval "$$($(BIN)/lakehouse services env influxdb opensearch)" && \
	    $(AS_INFLUXDB_READER) LAKEHOUSE_KEYS=$(DEMO)/keys.sqlite $(BIN)/lakehouse serve portal

# One pytest session for every tier, fastest first: they share one Spark session and each service starts once.
test: setup lint terraform-check ## lint, type check, checkov, and every test tier but heavy (what .ci/run runs)
	$(BIN)/pytest tests/unit tests/spark tests/integration tests/slow

test-fast: setup-core ## the unit and spark tiers: no service, no download beyond setup-core
	$(BIN)/pytest tests/unit tests/spark

test-slow: setup ## the slow tier alone: a sink stopped mid-publish, the portal fuzz
	$(BIN)/pytest tests/slow

test-heavy: setup ## not in make test: the 2 GiB file, the fuzz campaign, the DAG run, backfill, outage, kill drills
	$(BIN)/pytest tests/heavy

test-kill: setup ## only the kill drills, with their kill log on the console
	$(BIN)/pytest -m kill -s tests/heavy

# Offline: no provider, no registry (docs/deploy.md). The property tests are tests/unit/test_terraform.py.
terraform-check: $(CHECKOV_VENV)/.installed ## checkov over infra/terraform: zero failed checks, every skip justified
	CKV_SKIP_PACKAGE_UPDATE_CHECK=true $(CHECKOV_VENV)/bin/checkov --directory infra/terraform --framework terraform \
	    --skip-download --compact --quiet

lint: $(VENV)/.installed ## ruff (lint and format) and mypy over jobs/ and scripts/
	$(BIN)/ruff check jobs tests scripts dags
	$(BIN)/ruff format --check jobs tests scripts dags
	$(BIN)/mypy

bench: setup ## stage throughput, publish rates, backfill and Trino latency on BENCH_EVENTS events
	$(BIN)/python scripts/bench.py --events $(BENCH_EVENTS)

bench-s3: setup-core $(SERVICES)/s3/.fetched ## bronze, silver and gold on the local disk against S3: seconds, requests
	$(BIN)/python scripts/bench_s3.py

bench-ingest: setup-core $(SERVICES)/kafka/.fetched ## the ingestion API under wrk: events/s and latency, files and Kafka
	$(BIN)/python scripts/bench_ingest.py

bench-portal: setup-core dashboard $(SERVICES)/influxdb/.fetched ## the portal's latency: a 30-day series, 50 clients
	$(BIN)/python scripts/bench_portal.py

bench-big-file: setup-core ## one 2 GiB JSON Lines file into bronze with the default memory
	$(BIN)/python scripts/big_file.py --gib 2

# Continuous mode under load: send -> visible in gold, p50/p95/p99 (starts the local Kafka).
freshness: setup ## send -> visible in gold under load (starts the local Kafka)
	$(BIN)/python scripts/freshness.py

# 20 SIGKILLs of the continuously running pipeline; prints what was lost and doubled (starts the local Kafka).
chaos: setup ## 20 SIGKILLs of the continuously running pipeline, then what was lost and doubled
	$(BIN)/python scripts/chaos.py --kills 20

clean: ## remove what the demo, the bench and runs wrote
	rm -rf $(DEMO) $(DEMO)-stream $(DEMO)-s3 bench warehouse checkpoints landing spark-warehouse
