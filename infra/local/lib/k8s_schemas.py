"""Standalone Kubernetes JSON schemas for kubeconform, from the ones PyPI's kubernetes-validate ships.

kubernetes-validate's schemas point into a shared `/api/_definitions.json` by absolute reference, which only its own
resolver understands. kubeconform needs each kind's schema to stand alone, so for every kind named on stdin
(`<kind><suffix>` as kubeconform names its files, e.g. `deployment-apps-v1`) this writes `<out>/<name>.json`: the
kind's schema with the definitions it reaches copied in under `$defs` and its references made local.

    python k8s_schemas.py SCHEMA_DIR OUT_DIR < names
"""

import json
import os
import sys

PREFIX = "/api/_definitions.json#/$defs/"
LOCAL = "#/$defs/"  # how the definitions refer to one another


def refs(node):
    """Every definition name referenced anywhere in a schema node."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith((PREFIX, LOCAL)):
                yield value.rpartition("/")[2]
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def localise(node):
    """The node with its references to the shared definitions pointing at its own `$defs`."""
    if isinstance(node, dict):
        return {
            key: ("#/$defs/" + value[len(PREFIX):] if key == "$ref" and isinstance(value, str) and value.startswith(PREFIX) else localise(value))
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [localise(value) for value in node]
    return node


def standalone(schema, definitions):
    needed, queue = set(), list(refs(schema))
    while queue:
        name = queue.pop()
        if name in needed:
            continue
        needed.add(name)
        queue.extend(refs(definitions[name]))
    out = localise(schema)
    out["$defs"] = {name: localise(definitions[name]) for name in sorted(needed)}
    return out


def main(schema_dir, out_dir):
    with open(os.path.join(schema_dir, "_definitions.json"), encoding="utf-8") as f:
        definitions = json.load(f)["$defs"]
    os.makedirs(out_dir, exist_ok=True)
    for name in sorted({line.strip() for line in sys.stdin if line.strip()}):
        source = os.path.join(schema_dir, name + ".json")
        target = os.path.join(out_dir, name + ".json")
        if not os.path.exists(source) or os.path.exists(target):
            continue  # an operator's resource (no schema here), or done before
        with open(source, encoding="utf-8") as f:
            schema = json.load(f)
        with open(target + ".tmp", "w", encoding="utf-8") as f:
            json.dump(standalone(schema, definitions), f)
        os.replace(target + ".tmp", target)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
