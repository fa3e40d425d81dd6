"""The AWS deployment in infra/terraform, checked without terraform (none can be installed here, and `validate`
would need the providers from a registry): every .tf and .tfvars file is parsed with python-hcl2, and the properties
that matter are asserted from the parsed HCL. Each check reads what the HCL says, so changing the HCL changes its
result: buckets encrypted, versioned, private and TLS-only; no policy allowing every action on every resource; every
alarm notifying the topic; every module used by both environments; every variable typed and described; prod's
Kinesis shards, computed by the HCL's own formula from prod's tfvars, enough for the design's peak; the freshness
alarm on the pipeline's GoldFreshnessSeconds. checkov runs the broader rule set (requirements-checkov.txt)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from jobs.devtools.terraform import ENVS, MODULES, TERRAFORM, evaluate, expression, load, locals_of, tfvars, unquote
from jobs.lag import CONTINUOUS_INTERVAL_SECONDS
from jobs.lag import METRIC as FRESHNESS_METRIC

SHARD_RECORDS_PER_SECOND = 1000
SHARD_BYTES_PER_SECOND = 1024 * 1024
DESIGN_PEAK_EVENTS_PER_SECOND = 35_000
DESIGN_FRESHNESS_SECONDS = 3600


# ---- reading the parsed HCL ----


@pytest.fixture(scope="module")
def parsed() -> dict[Path, dict]:
    """Every .tf and .tfvars file, parsed once; a file that does not parse maps to its error."""
    files = {}
    for path in sorted([*TERRAFORM.rglob("*.tf"), *TERRAFORM.rglob("*.tfvars")]):
        try:
            files[path] = load(path)
        except Exception as error:
            files[path] = error
    return files


def files_under(parsed: dict[Path, dict], folder: Path) -> list[dict]:
    return [content for path, content in parsed.items() if path.is_relative_to(folder) and isinstance(content, dict)]


def blocks(documents: list[dict], kind: str, block_type: str) -> dict[str, dict]:
    """Blocks `<kind> "<block_type>" "<name>"` (kind: resource or data) of the documents, by name."""
    found = {}
    for document in documents:
        for entry in document.get(kind, []):
            for type_label, named in entry.items():
                if unquote(type_label) == block_type:
                    found.update({unquote(name): body for name, body in named.items()})
    return found


def labelled(documents: list[dict], kind: str) -> dict[str, dict]:
    """Blocks `<kind> "<name>"` (variable, module, output), by name."""
    return {
        unquote(name): body
        for document in documents
        for entry in document.get(kind, [])
        for name, body in entry.items()
    }


def module_names() -> list[str]:
    return sorted(path.name for path in MODULES.iterdir() if path.is_dir())


def module_documents(parsed: dict[Path, dict], module: str) -> list[dict]:
    return files_under(parsed, MODULES / module)


def env_documents(parsed: dict[Path, dict], env: str) -> list[dict]:
    return files_under(parsed, TERRAFORM / "envs" / env)


def references(value, address: str) -> bool:
    """Whether an expression names a resource address (aws_s3_bucket.logs, aws_s3_bucket.data[...])."""
    return re.search(rf"\b{re.escape(address)}(\.|\[)", str(value)) is not None


def bucket_companion(documents: list[dict], block_type: str, bucket: str) -> dict | None:
    """The <block_type> resource whose `bucket` is the aws_s3_bucket named <bucket>."""
    for body in blocks(documents, "resource", block_type).values():
        if references(body.get("bucket"), f"aws_s3_bucket.{bucket}"):
            return body
    return None


def module_inputs(parsed: dict[Path, dict], env: str, module: str) -> dict:
    """The values a module gets in an environment: its arguments there, `var.x` taken from the environment's
    tfvars (or its variable's default), and the module's own defaults for what is not passed."""
    env_variables = labelled(env_documents(parsed, env), "variable")
    values = {
        name: body["default"]
        for name, body in labelled(module_documents(parsed, module), "variable").items()
        if "default" in body
    }
    call = next(
        body
        for body in labelled(env_documents(parsed, env), "module").values()
        if unquote(body["source"]).endswith(f"/{module}")
    )
    settings = tfvars(env)
    for argument, value in call.items():
        match = re.fullmatch(r"var\.(\w+)", expression(value))
        if match:
            name = match.group(1)
            values[argument] = settings[name] if name in settings else unquote(env_variables[name].get("default"))
    return values


# ---- the checks ----


def test_every_file_parses(parsed):
    errors = {
        str(path.relative_to(TERRAFORM)): str(error) for path, error in parsed.items() if not isinstance(error, dict)
    }
    assert not errors
    assert len(parsed) > 40, "the modules and both environments should be there"


def test_every_bucket_is_kms_encrypted_versioned_private_and_tls_only(parsed):
    checked = 0
    for module in module_names():
        documents = module_documents(parsed, module)
        access_log_targets = {
            match.group(1)
            for logging in blocks(documents, "resource", "aws_s3_bucket_logging").values()
            if (match := re.search(r"aws_s3_bucket\.(\w+)", str(logging["target_bucket"])))
        }
        for bucket in blocks(documents, "resource", "aws_s3_bucket"):
            where = f"{module}: aws_s3_bucket.{bucket}"
            encryption = bucket_companion(documents, "aws_s3_bucket_server_side_encryption_configuration", bucket)
            assert encryption, f"{where} has no server-side encryption configuration"
            algorithm = unquote(encryption["rule"][0]["apply_server_side_encryption_by_default"][0]["sse_algorithm"])
            # S3 access logs and ALB logs can only be delivered to SSE-S3: the log bucket alone may use AES256.
            expected = "AES256" if bucket in access_log_targets else "aws:kms"
            assert algorithm == expected, f"{where} is encrypted with {algorithm}, not {expected}"
            if bucket not in access_log_targets:
                assert bucket_companion(documents, "aws_s3_bucket_logging", bucket), f"{where} has no access logging"

            versioning = bucket_companion(documents, "aws_s3_bucket_versioning", bucket)
            assert versioning, f"{where} has no versioning"
            assert unquote(versioning["versioning_configuration"][0]["status"]) == "Enabled", (
                f"{where} is not versioned"
            )

            public_access = bucket_companion(documents, "aws_s3_bucket_public_access_block", bucket)
            assert public_access, f"{where} has no public access block"
            for setting in (
                "block_public_acls",
                "block_public_policy",
                "ignore_public_acls",
                "restrict_public_buckets",
            ):
                assert public_access.get(setting) is True, f"{where}: {setting} is not true"

            policy = bucket_companion(documents, "aws_s3_bucket_policy", bucket)
            assert policy, f"{where} has no bucket policy"
            assert denies_insecure_transport(documents, policy["policy"]), (
                f"{where}'s policy does not deny non-TLS requests"
            )
            checked += 1
    assert checked >= 2


def denies_insecure_transport(documents: list[dict], policy_expression) -> bool:
    match = re.search(r"data\.aws_iam_policy_document\.(\w+)", str(policy_expression))
    if not match:
        return False
    document = blocks(documents, "data", "aws_iam_policy_document")[match.group(1)]
    return any(
        unquote(statement.get("effect")) == "Deny"
        and any(
            unquote(condition["test"]) == "Bool"
            and unquote(condition["variable"]) == "aws:SecureTransport"
            and [unquote(value) for value in condition["values"]] == ["false"]
            for condition in statement.get("condition", [])
        )
        for statement in document.get("statement", [])
    )


def is_unbounded_action(action: str) -> bool:
    return action == "*" or action.endswith(":*")


def test_no_policy_allows_every_action_on_every_resource(parsed):
    documents = [content for content in parsed.values() if isinstance(content, dict)]
    statements = [
        statement
        for document in blocks(documents, "data", "aws_iam_policy_document").values()
        for statement in document.get("statement", [])
    ]
    assert len(statements) > 20, "the roles' policies should be aws_iam_policy_document data sources"
    for statement in statements:
        if unquote(statement.get("effect", '"Allow"')) == "Deny":
            continue
        actions = [unquote(action) for action in statement.get("actions", [])]
        resources = [unquote(resource) for resource in statement.get("resources", [])]
        assert not (any(is_unbounded_action(action) for action in actions) and "*" in resources), statement

    # Policies written inline with jsonencode (the KMS key policies) may not name "*" or "service:*" at all.
    inline = re.compile(r'Action\s*=\s*\[?[^\]=]*?"(\*|[a-z0-9-]+:\*)"')
    for path, content in parsed.items():
        for match in inline.finditer(path.read_text() if isinstance(content, dict) else ""):
            pytest.fail(f"{path.relative_to(TERRAFORM)}: inline policy allows {match.group(1)}")


def test_every_alarm_notifies_the_topic(parsed):
    alarms = 0
    for module in module_names():
        documents = module_documents(parsed, module)
        topics = blocks(documents, "resource", "aws_sns_topic")
        for name, alarm in blocks(documents, "resource", "aws_cloudwatch_metric_alarm").items():
            for actions in ("alarm_actions", "ok_actions"):
                named = [
                    topic
                    for topic in topics
                    for action in alarm.get(actions, [])
                    if references(action, f"aws_sns_topic.{topic}")
                ]
                assert named, f"{module}: alarm {name}'s {actions} do not name the module's SNS topic"
            alarms += 1
    assert alarms >= 10


def test_every_module_is_used_by_both_environments(parsed):
    for env in ENVS:
        sources = {unquote(body["source"]) for body in labelled(env_documents(parsed, env), "module").values()}
        assert {f"../../modules/{module}" for module in module_names()} <= sources, env


def test_every_variable_has_a_type_and_a_description(parsed):
    variables = 0
    for path, content in parsed.items():
        if not isinstance(content, dict):
            continue
        for name, body in labelled([content], "variable").items():
            assert "type" in body, f"{path.relative_to(TERRAFORM)}: variable {name} has no type"
            assert unquote(body.get("description", "")).strip(), (
                f"{path.relative_to(TERRAFORM)}: variable {name} has no description"
            )
            variables += 1
    assert variables > 50


def test_prod_stream_shards_take_the_design_peak(parsed):
    inputs = module_inputs(parsed, "prod", "stream")
    assert inputs["stream_mode"] == "PROVISIONED"
    assert inputs["peak_events_per_second"] >= DESIGN_PEAK_EVENTS_PER_SECOND

    stream_locals = locals_of(module_documents(parsed, "stream"))
    shards = evaluate(expression(stream_locals["shard_count"]), inputs, stream_locals)
    peak = inputs["peak_events_per_second"]
    assert shards * SHARD_RECORDS_PER_SECOND >= peak, f"{shards} shards take fewer than {peak} records/s"
    assert shards * SHARD_BYTES_PER_SECOND >= peak * inputs["event_size_bytes"], (
        f"{shards} shards take fewer bytes/s than the peak"
    )

    stream = blocks(module_documents(parsed, "stream"), "resource", "aws_kinesis_stream")["events"]
    assert "local.shard_count" in expression(stream["shard_count"]), "the stream must use the computed shard count"


def test_shard_evaluator_follows_the_formula():
    """The evaluator itself: the HCL formula's shape, and a refusal of anything beyond arithmetic."""
    local_values = {"per_shard": 1000}
    assert (
        evaluate("ceil(var.peak * var.headroom / local.per_shard)", {"peak": 35000, "headroom": 1.5}, local_values)
        == 53
    )
    with pytest.raises(ValueError):
        evaluate("__import__('os').getcwd()", {}, {})


def test_the_freshness_alarm_watches_the_metric_the_pipeline_sends(parsed):
    documents = module_documents(parsed, "monitoring")
    alarms = blocks(documents, "resource", "aws_cloudwatch_metric_alarm").values()
    freshness = [alarm for alarm in alarms if unquote(alarm.get("metric_name")) == FRESHNESS_METRIC]
    assert len(freshness) == 1
    alarm = freshness[0]
    assert expression(alarm["namespace"]) == "var.metrics_namespace"
    assert unquote(alarm["statistic"]) == "Maximum"
    assert unquote(alarm["treat_missing_data"]) == "breaching", "a silent pipeline is a stale one"
    threshold = re.fullmatch(r"var\.(\w+)", expression(alarm["threshold"]))
    assert threshold
    assert labelled(documents, "variable")[threshold.group(1)]["default"] == DESIGN_FRESHNESS_SECONDS

    # Each period holds a value even when one report comes late, sent every minute by the streaming job or every hour
    # by the DAG; else a healthy deployment reads as silent, which the alarm takes for a breach.
    for env in ENVS:
        call = labelled(env_documents(parsed, env), "module")["monitoring"]
        every = re.fullmatch(r"var\.streaming \? (\d+) : (\d+)", expression(call["freshness_report_seconds"]))
        assert every, "the report interval follows whether the streaming job runs"
        assert (int(every.group(1)), int(every.group(2))) == (CONTINUOUS_INTERVAL_SECONDS, 3600)
        report = int(every.group(1) if tfvars(env)["streaming"] else every.group(2))
        period = evaluate(expression(alarm["period"]), {"freshness_report_seconds": report}, {})
        assert period >= 2 * report, (env, period, report)

    # The jobs send the metric to the namespace the alarm watches.
    for env in ENVS:
        calls = labelled(env_documents(parsed, env), "module")
        assert expression(calls["spark"]["metrics_namespace"]) == expression(calls["monitoring"]["metrics_namespace"])


# ---- the wiring: what `terraform validate` would refuse, read from the parsed HCL ----

# A module block's own arguments, which are not the module's variables.
MODULE_META_ARGUMENTS = {"source", "providers", "depends_on", "count", "for_each"}
# A reference never follows a dot or a word character: `each.value.var` is an attribute, and in `data.aws_x.y` the
# `aws_x.y` is part of the data source's address, not a resource's.
REFERENCE_START = r"(?<![\w.])"
VARIABLE_REFERENCE = re.compile(REFERENCE_START + r"var\.(\w+)")
LOCAL_REFERENCE = re.compile(REFERENCE_START + r"local\.(\w+)")
MODULE_REFERENCE = re.compile(REFERENCE_START + r"module\.(\w+)(?:\.(\w+))?")
RESOURCE_REFERENCE = re.compile(REFERENCE_START + r"(data\.)?((?:aws|random)_\w+)\.(\w+)")


def configuration_documents(parsed: dict[Path, dict], folder: Path) -> list[dict]:
    """The .tf files of one module or environment (its .tfvars are values, not configuration)."""
    return [
        content
        for path, content in parsed.items()
        if path.parent == folder and path.suffix == ".tf" and isinstance(content, dict)
    ]


def expressions(node) -> Iterator[str]:
    """Every string in parsed HCL: attribute values, list items and object values at any depth. The parser's own
    entries (__comments__, __is_block__) are skipped: a comment that names `var.x` is no reference."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, list):
        for item in node:
            yield from expressions(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if not key.startswith("__"):
                yield from expressions(value)


def found(pattern: re.Pattern, documents: list[dict]) -> set[tuple]:
    """The groups of every match of a reference pattern anywhere in the documents."""
    return {match.groups() for text in expressions(documents) for match in pattern.finditer(text)}


def addresses(documents: list[dict], kind: str) -> set[str]:
    """`<type>.<name>` of every `<kind> "<type>" "<name>"` block (kind: resource or data)."""
    return {
        f"{unquote(block_type)}.{unquote(name)}"
        for document in documents
        for entry in document.get(kind, [])
        for block_type, named in entry.items()
        for name in named
        if not name.startswith("__")
    }


def reference_problems(documents: list[dict], where: str) -> list[str]:
    """var.x, local.x and resource or data source references that name nothing declared in these documents."""
    variables = set(labelled(documents, "variable"))
    local_names = set(locals_of(documents))
    resources, data_sources = addresses(documents, "resource"), addresses(documents, "data")
    problems = [
        f"{where}: var.{name} is not a declared variable"
        for (name,) in found(VARIABLE_REFERENCE, documents)
        if name not in variables
    ]
    problems += [
        f"{where}: local.{name} is not defined in its locals"
        for (name,) in found(LOCAL_REFERENCE, documents)
        if name not in local_names
    ]
    for data, block_type, name in found(RESOURCE_REFERENCE, documents):
        declared = data_sources if data else resources
        if f"{block_type}.{name}" not in declared:
            what = "data source" if data else "resource"
            problems.append(f"{where}: {data or ''}{block_type}.{name} names no {what} declared there")
    return sorted(problems)


def module_call_problems(parsed: dict[Path, dict], env: str) -> list[str]:
    """Each module block against the module it calls: arguments it declares, required variables passed, and every
    module.<name>.<output> of the environment an output of that module."""
    env_folder = TERRAFORM / "envs" / env
    where = f"envs/{env}"
    documents = configuration_documents(parsed, env_folder)
    problems, outputs = [], {}
    for call, body in labelled(documents, "module").items():
        folder = (env_folder / unquote(body["source"])).resolve()
        source = folder.relative_to(TERRAFORM)
        module = configuration_documents(parsed, folder)
        if not module:
            problems.append(f"{where}: module.{call}'s source {source} has no .tf files")
            continue
        declared = labelled(module, "variable")
        arguments = {key for key in body if not key.startswith("__")} - MODULE_META_ARGUMENTS
        problems += [
            f"{where}: module.{call} passes {argument}, which {source} does not declare"
            for argument in sorted(arguments - set(declared))
        ]
        required = {name for name, variable in declared.items() if "default" not in variable}
        problems += [
            f"{where}: module.{call} does not pass {name}, which {source} requires (no default)"
            for name in sorted(required - arguments)
        ]
        outputs[call] = set(labelled(module, "output"))
    for call, output in sorted(found(MODULE_REFERENCE, documents), key=str):
        if call not in outputs:
            problems.append(f"{where}: module.{call} is not a module block of the environment")
        elif output and output not in outputs[call]:
            problems.append(f"{where}: module.{call}.{output} is not an output of module {call}")
    return problems


def tfvars_problems(parsed: dict[Path, dict], env: str) -> list[str]:
    """terraform.tfvars against the environment's variables: none unknown, every one without a default set."""
    declared = labelled(configuration_documents(parsed, TERRAFORM / "envs" / env), "variable")
    settings = set(tfvars(env))
    problems = [
        f"envs/{env}/terraform.tfvars sets {name}, which is not a declared variable"
        for name in sorted(settings - set(declared))
    ]
    problems += [
        f"envs/{env}/terraform.tfvars does not set {name}, which has no default"
        for name, variable in sorted(declared.items())
        if "default" not in variable and name not in settings
    ]
    return problems


def test_the_wiring_is_what_terraform_validate_would_accept(parsed):
    """What `terraform validate` checks of the wiring, which no other check here sees: each module block against its
    module (arguments, required variables, outputs referenced), and var., local. and resource references against
    what each module and environment declares. Plus what `plan` would refuse before calling AWS: tfvars that set an
    undeclared variable or leave a required one unset. Every problem is listed, not only the first."""
    problems = []
    for env in ENVS:
        problems += module_call_problems(parsed, env)
        problems += tfvars_problems(parsed, env)
        problems += reference_problems(configuration_documents(parsed, TERRAFORM / "envs" / env), f"envs/{env}")
    for module in module_names():
        problems += reference_problems(configuration_documents(parsed, MODULES / module), f"modules/{module}")
    assert not problems, "\n".join(["wiring that terraform validate would refuse:", *problems])
