"""Checks of a stack's config that the typed model cannot make alone: the keys as written (typos in a
namespace or key, secrets in plain text, YAML types) and the AWS rules whose pydantic messages would
name a regex. Each problem says what is wrong and how to fix it, in plain words. Pure Python."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from typing import Any

from mlops_spec.errors import FieldError

NAMESPACE = "mlops"
# Keys read as Pulumi secrets by the program, never as plain config.
SECRET_KEYS = frozenset({f"{NAMESPACE}:deployRoleExternalId"})
# Namespaces of other providers and of Pulumi itself that a stack may hold next to ours.
_FOREIGN_NAMESPACES = frozenset({"aws", "pulumi", "aws-native", "awsx", "random", "tls", "command"})
# AWS allows 50 tags per resource; the orchestrator sets up to 4 of its own (Spec.tags_for).
AWS_TAG_LIMIT = 50
ORCHESTRATOR_TAGS = 4
_TAG_TEXT = re.compile(r"[\w\s.:/=+@-]*", re.ASCII)
_REPOSITORY_NAME = re.compile(r"[a-z0-9]+([._/-][a-z0-9]+)*", re.ASCII)


def key_problems(keys: Iterable[str], known: Iterable[str]) -> list[FieldError]:
    """Keys in a namespace that looks like ours but is not (`mlo:mode`), and unknown `mlops:` keys,
    each with the nearest known key."""
    known = sorted(set(known) | SECRET_KEYS)
    problems = []
    for key in sorted(keys):
        namespace, colon, name = key.partition(":")
        if not colon or key in known or namespace in _FOREIGN_NAMESPACES:
            continue
        if namespace == NAMESPACE:
            problems.append(FieldError(key, f"is not a known config key{_did_you_mean(key, known)}"))
        elif _looks_like_ours(namespace):
            guess = f"{NAMESPACE}:{name}"
            problems.append(
                FieldError(key, f"'{namespace}' is not a config namespace{_did_you_mean(guess, known, guess)}")
            )
    return problems


def _looks_like_ours(namespace: str) -> bool:
    """`mlo`, `mlpos`, `MLOPS`, or `mlops-orchestrator` (where `pulumi config set mode ...` without a
    namespace puts a key: the project's name)."""
    lowered = namespace.lower()
    return lowered.startswith(NAMESPACE) or difflib.SequenceMatcher(None, lowered, NAMESPACE).ratio() >= 0.6


def _did_you_mean(key: str, known: list[str], fallback: str | None = None) -> str:
    guess = _nearest(key, known) or fallback
    return f"; did you mean {guess}?" if guess else f"; known keys: {', '.join(known)}"


def _nearest(key: str, known: list[str]) -> str | None:
    """The known key whose name contains the one given (`email` -> `notificationEmail`), else the
    most similar name."""
    name = key.partition(":")[2].lower()
    names = {k.partition(":")[2].lower(): k for k in known}
    containing = sorted((n for n in names if name and name in n), key=len)
    if containing:
        return names[containing[0]]
    close = difflib.get_close_matches(name, list(names), n=1, cutoff=0.6)
    return names[close[0]] if close else None


def plain_text_secrets(keys: Iterable[str], secret_keys: Iterable[str]) -> list[FieldError]:
    """Keys that must be Pulumi secrets but are stored in plain text (and so shown in plans and state)."""
    secret = set(secret_keys)
    return [
        FieldError(
            key,
            "is stored in plain text; remove it from the stack file and run "
            f"`pulumi config set --secret {key} <value>`",
        )
        for key in sorted(set(keys) & SECRET_KEYS - secret)
    ]


def written_type_problems(values: dict[str, Any]) -> list[FieldError]:
    """Values whose YAML type loses what the user wrote: an unquoted version such as 0.10 is the
    number 0.1 by the time the program reads it."""
    key = f"{NAMESPACE}:provisionerImageTag"
    value = values.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return [
            FieldError(
                key,
                f"is the number {value} (YAML reads an unquoted 0.10 as 0.1); quote the tag in the stack file, "
                f'e.g. {key}: "0.10", or set it with `pulumi config set {key} <tag>`',
            )
        ]
    return []


def account_id(value: Any) -> Any:
    """`pulumi config set --path mlops:accounts.dev 012345678901` stores a number, which loses the
    leading zero: numbers are read back as 12-digit ids."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 10**12:
        return f"{value:012d}"
    return value


def tag_problems(tags: Any) -> list[tuple[str, str]]:
    """(key, problem) for tags AWS would refuse; an empty key means the whole map."""
    if not isinstance(tags, dict):
        return [("", "must be a map of tag keys to values")]
    limit = AWS_TAG_LIMIT - ORCHESTRATOR_TAGS
    problems: list[tuple[str, str]] = []
    if len(tags) > limit:
        problems.append(
            (
                "",
                f"has {len(tags)} tags; AWS allows {AWS_TAG_LIMIT} per resource and the orchestrator adds "
                f"{ORCHESTRATOR_TAGS} of its own, so keep at most {limit}",
            )
        )
    for key, value in tags.items():
        problem = _tag_key_problem(str(key)) or _tag_value_problem(value)
        if problem:
            problems.append((str(key), problem))
    return problems


def _tag_key_problem(key: str) -> str | None:
    if key.lower().startswith("aws:"):
        return "tag keys starting with aws: are reserved by AWS; rename the tag"
    if key.startswith(f"{NAMESPACE}:"):
        return f"tag keys starting with {NAMESPACE}: are the orchestrator's own; rename the tag"
    if not 1 <= len(key) <= 128 or not _TAG_TEXT.fullmatch(key):
        return "a tag key must be 1-128 letters, digits, spaces or _ . : / = + @ -"
    return None


def _tag_value_problem(value: Any) -> str | None:
    if not isinstance(value, str):
        return f"the value {value!r} must be text; quote it in the stack file"
    if len(value) > 256 or not _TAG_TEXT.fullmatch(value):
        return "a tag value must be at most 256 letters, digits, spaces or _ . : / = + @ -"
    return None


def repository_problem(value: Any) -> str | None:
    """An ECR repository name, not an image URI (`ACCOUNT.dkr.ecr.REGION.amazonaws.com/name:tag`)."""
    if not isinstance(value, str):
        return "must be an ECR repository name, e.g. mlops-models"
    if ".dkr.ecr." in value or ":" in value or "@" in value:
        name = value.split("/", 1)[-1].split("@")[0].split(":")[0]
        return f"is an image URI; give the repository name only, e.g. {name}"
    if len(value) > 256 or not _REPOSITORY_NAME.fullmatch(value):
        return "must be an ECR repository name: lowercase letters and digits, separated by . _ - or /"
    return None


# pydantic's words for the failures that remain, and what a user should read instead.
_PLAIN_WORDS = (
    (re.compile(r"String should match pattern .*"), "has characters or a form this setting does not allow"),
    (re.compile(r"Input should be a valid string"), "must be text (quote it in the stack file)"),
    (re.compile(r"Input should be a valid boolean.*"), "must be true or false"),
    (re.compile(r"Input should be a valid integer.*"), "must be a whole number"),
    (re.compile(r"Input should be a valid dictionary.*"), "must be a map of keys to values"),
    (re.compile(r"Input should be a valid list.*"), "must be a list"),
    (re.compile(r"Input should be (.*)"), r"must be \1"),
)


def plain_problem(problem: str) -> str:
    """A pydantic message in plain words: no regex, no type names."""
    for pattern, words in _PLAIN_WORDS:
        if pattern.fullmatch(problem):
            return pattern.sub(words, problem)
    return problem


# Settings the stacks of one multi-account install must agree on: each stack derives the names and
# ARNs of the others' resources from them.
SHARED_KEYS = (
    "aws:region",
    f"{NAMESPACE}:mode",
    f"{NAMESPACE}:accounts",
    f"{NAMESPACE}:orchestratorEnvironment",
    f"{NAMESPACE}:useModelRegistry",
)


def shared_setting_problems(values_by_stack: dict[str, dict[str, Any]]) -> list[FieldError]:
    """Settings that differ between the stacks of one install (a prod file naming another dev
    account), each named down to the entry that differs, with which stack holds which value."""
    problems = []
    for key in SHARED_KEYS:
        for field, by_stack in _entries(key, values_by_stack).items():
            groups: dict[str, list[str]] = {}
            for stack, value in sorted(by_stack.items()):
                groups.setdefault("(unset)" if value is None else str(value), []).append(stack)
            if len(groups) > 1:
                differing = "; ".join(f"{', '.join(stacks)}: {value}" for value, stacks in groups.items())
                problems.append(
                    FieldError(
                        field,
                        f"differs between stacks ({differing}); every stack of an install needs the same "
                        "value: write it once, under config: in Pulumi.yaml",
                    )
                )
    return problems


def _entries(key: str, values_by_stack: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Field -> stack -> value; a map (mlops:accounts) compared entry by entry."""
    values = {stack: values.get(key) for stack, values in values_by_stack.items()}
    if not any(isinstance(value, dict) for value in values.values()):
        return {key: values}
    names = sorted({name for value in values.values() if isinstance(value, dict) for name in value})
    return {
        f"{key}.{name}": {
            stack: account_id(value.get(name)) if isinstance(value, dict) else None for stack, value in values.items()
        }
        for name in names
    }
