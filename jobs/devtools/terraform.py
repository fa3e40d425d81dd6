"""infra/terraform read without terraform (none can be installed here): the parsed HCL of its files, an
environment's tfvars, and the numeric expressions of its locals, evaluated. The property tests
(tests/unit/test_terraform.py) and the cost model (scripts/cost_model.py) read the deployment through it."""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from pathlib import Path

import hcl2

from jobs.runtime.settings import REPO_ROOT

TERRAFORM = REPO_ROOT / "infra" / "terraform"
MODULES = TERRAFORM / "modules"
ENVS = ("dev", "prod")


def load(path: Path) -> dict:
    with path.open() as handle:
        return hcl2.load(handle)


def unquote(value):
    """python-hcl2 keeps a string literal's quotes ('"aws:kms"'): the literal's value."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def expression(value) -> str:
    """The text of an expression attribute ('${var.x}' -> 'var.x')."""
    text = str(value)
    return text[2:-1] if text.startswith("${") and text.endswith("}") else unquote(text)


def tfvars(env: str) -> dict:
    """An environment's terraform.tfvars, its values unquoted; the parser's own entries (__comments__) left out."""
    settings = load(TERRAFORM / "envs" / env / "terraform.tfvars")
    return {key: unquote(value) for key, value in settings.items() if not key.startswith("__")}


def locals_of(documents: list[dict]) -> dict:
    return {
        key: value for document in documents for entry in document.get("locals", []) for key, value in entry.items()
    }


def module_locals(module: str) -> dict:
    return locals_of([load(path) for path in sorted((MODULES / module).glob("*.tf"))])


FUNCTIONS: dict[str, Callable[..., float]] = {"ceil": math.ceil, "floor": math.floor, "max": max, "min": min}
OPERATORS: dict[type, Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


def evaluate(text: str, variables: dict, local_values: dict) -> float:
    """Evaluate arithmetic over var.*, local.*, numbers and ceil/floor/max/min. HCL's syntax for these is Python's,
    so Python's parser builds the tree, and only the node types above are evaluated; anything else is refused."""

    def walk(node):
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
            return OPERATORS[type(node.op)](walk(node.left), walk(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -walk(node.operand)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS:
            return FUNCTIONS[node.func.id](*[walk(argument) for argument in node.args])
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if node.value.id == "var":
                return float(variables[node.attr])
            if node.value.id == "local":
                value = local_values[node.attr]
                if isinstance(value, int | float):
                    return value
                return evaluate(expression(value), variables, local_values)
        raise ValueError(f"not a numeric expression this evaluator takes: {ast.dump(node)}")

    return walk(ast.parse(text, mode="eval"))
