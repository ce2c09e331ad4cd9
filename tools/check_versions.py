#!/usr/bin/env python3
"""Checks MODULE.bazel's structure and that mp's versions agree.

    check_versions.py MODULE.bazel third_party/deps.bzl CMakeLists.txt CHANGELOG.md

(//tools:versions_test passes the four.) Debian's Bazel 4.2.3 cannot read
MODULE.bazel, so this is what keeps it honest:

- structure: a Starlark file of module(), bazel_dep() and
  register_toolchains() calls only, with literal arguments; module(name =
  "mp", version = ...); bazel_deps on abseil-cpp, platforms and rules_cc,
  and on googletest and google_benchmark as dev dependencies, each under
  the repository name the BUILD files use;
- versions: abseil-cpp and googletest as in third_party/deps.bzl
  (ABSEIL_VERSION, GOOGLETEST_VERSION), google_benchmark as its
  BENCHMARK_BCR_VERSION; mp's own version the same in MODULE.bazel,
  CMakeLists.txt's project() and CHANGELOG.md's newest entry.

Prints every mismatch and exits 1 if there is one.
"""

import ast
import re
import sys

# name -> (repo_name, dev_dependency, deps.bzl constant or None)
REQUIRED_DEPS = {
    "abseil-cpp": ("com_google_absl", False, "ABSEIL_VERSION"),
    "platforms": (None, False, None),
    "rules_cc": (None, False, None),
    "googletest": ("com_google_googletest", True, "GOOGLETEST_VERSION"),
    "google_benchmark": ("com_google_benchmark", True, "BENCHMARK_BCR_VERSION"),
}
ALLOWED_CALLS = {"module", "bazel_dep", "register_toolchains"}


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def literal_kwargs(call, errors, where):
    values = {}
    for kw in call.keywords:
        try:
            values[kw.arg] = ast.literal_eval(kw.value)
        except ValueError:
            errors.append(f"{where}: {kw.arg} is not a literal")
    return values


def main(module_path, deps_path, cmake_path, changelog_path):
    errors = []
    try:
        tree = ast.parse(read(module_path), module_path)
    except SyntaxError as e:
        print(f"{module_path}: not valid Starlark: {e}")
        return 1
    module = None
    deps = {}
    for node in tree.body:
        if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Name)):
            errors.append(f"{module_path}:{node.lineno}: only calls of "
                          f"{sorted(ALLOWED_CALLS)} belong here")
            continue
        call = node.value
        name = call.func.id
        where = f"{module_path}:{node.lineno}"
        if name not in ALLOWED_CALLS:
            errors.append(f"{where}: {name}() does not belong in MODULE.bazel")
            continue
        if name == "module":
            if module is not None:
                errors.append(f"{where}: a second module()")
            module = literal_kwargs(call, errors, where)
        elif name == "bazel_dep":
            kw = literal_kwargs(call, errors, where)
            if "name" not in kw or "version" not in kw:
                errors.append(f"{where}: bazel_dep needs name and version")
                continue
            if kw["name"] in deps:
                errors.append(f"{where}: a second bazel_dep on {kw['name']}")
            deps[kw["name"]] = kw

    constants = dict(re.findall(r'^(\w+_VERSION) = "([^"]+)"', read(deps_path),
                                re.MULTILINE))
    if module is None or module.get("name") != "mp":
        errors.append(f'{module_path}: needs module(name = "mp", version = ...)')
        module = module or {}
    for name, (repo_name, dev, constant) in REQUIRED_DEPS.items():
        dep = deps.get(name)
        if dep is None:
            errors.append(f"{module_path}: no bazel_dep on {name}")
            continue
        if dep.get("repo_name") != repo_name:
            errors.append(f"{module_path}: {name}'s repo_name is "
                          f"{dep.get('repo_name')!r}, the BUILD files use {repo_name!r}")
        if bool(dep.get("dev_dependency", False)) != dev:
            errors.append(f"{module_path}: {name} should "
                          f"{'' if dev else 'not '}be a dev_dependency")
        if constant is not None and dep["version"] != constants.get(constant):
            errors.append(f"{module_path}: {name} {dep['version']} but "
                          f"{deps_path} has {constant} = {constants.get(constant)!r}")
    for name in sorted(set(deps) - set(REQUIRED_DEPS)):
        errors.append(f"{module_path}: bazel_dep on {name}, which "
                      f"{deps_path} does not declare (add it there, and here)")

    cmake = re.search(r"^project\(mp VERSION ([0-9.]+)", read(cmake_path),
                      re.MULTILINE)
    changelog = re.search(r"^## \[?([0-9]+\.[0-9]+\.[0-9]+)",
                          read(changelog_path), re.MULTILINE)
    versions = {
        module_path: module.get("version"),
        cmake_path: cmake.group(1) if cmake else None,
        changelog_path: changelog.group(1) if changelog else None,
    }
    if len(set(versions.values())) != 1 or None in versions.values():
        errors.append("mp's version differs: " + ", ".join(
            f"{path} {v}" for path, v in versions.items()))

    for e in errors:
        print(e)
    if errors:
        return 1
    print(f"versions: mp {versions[module_path]}; MODULE.bazel matches "
          f"{deps_path} (" + ", ".join(
              f"{n} {deps[n]['version']}" for n in sorted(REQUIRED_DEPS)) + ")")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
