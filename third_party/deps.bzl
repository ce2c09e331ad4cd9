"""Where mp's build dependencies come from: the one place that decides.

Two worlds are served by the same WORKSPACE:

* Offline: Debian's Bazel 4.2.3 (`bazel --version` prints `no_version`, so
  `native.bazel_version` is ""). Nothing can be downloaded. rules_cc,
  rules_java and remote_coverage_tools come from stand-ins in third_party/,
  @platforms and @bazel_skylib from Debian's bazel-platforms and
  bazel-skylib, GoogleTest from Debian's /usr/src/googletest, and Abseil and Google
  Benchmark (for the Win32 benchmarks) from the sources that tools/setup.sh
  unpacks (Debian's `abseil` and `benchmark` source packages).
* Online: any other Bazel (5 to 7, WORKSPACE mode). Abseil 20220623.1 and
  GoogleTest 1.12.1 are fetched by URL and checked by sha256; Bazel's own
  defaults supply rules_cc, @platforms and the rest.

The choice is made by `mp_dependencies(offline = None)`: None detects Debian's
Bazel. The sources of the two C++ dependencies can additionally be forced with
the environment variable MP_DEPS=offline|online (e.g. `--repo_env=MP_DEPS=online`),
and their local folders moved with MP_ABSEIL_SRC, MP_GOOGLETEST_SRC and
MP_BENCHMARK_SRC.
"""

ABSEIL_VERSION = "20220623.1"
ABSEIL_SRC_DEFAULT = "/usr/local/src/abseil-cpp-" + ABSEIL_VERSION
GOOGLETEST_VERSION = "1.12.1"
GOOGLETEST_SRC_DEFAULT = "/usr/src/googletest"
BENCHMARK_VERSION = "1.7.1"

# MODULE.bazel (bzlmod) names the same versions, checked by
# //tools:versions_test, except Google Benchmark's: the Bazel Central Registry
# has no 1.7.1, and its oldest is this one.
BENCHMARK_BCR_VERSION = "1.8.2"
BENCHMARK_SRC_DEFAULT = "/usr/local/src/benchmark-" + BENCHMARK_VERSION

def _source_repository_impl(ctx):
    mode = ctx.os.environ.get("MP_DEPS", "auto")
    if mode not in ("auto", "offline", "online"):
        fail("MP_DEPS must be auto, offline or online, not %r" % mode)
    local = ctx.path(ctx.os.environ.get(ctx.attr.local_env, ctx.attr.local_path))
    if mode != "online" and local.exists:
        for child in local.readdir():
            if child.basename not in ("WORKSPACE", "WORKSPACE.bazel", "BUILD", "BUILD.bazel") or not ctx.attr.local_build_file:
                ctx.symlink(child, child.basename)
        if ctx.attr.local_build_file:
            ctx.symlink(ctx.attr.local_build_file, "BUILD.bazel")
    elif mode == "offline":
        fail(("%s: no source at %s. Run `sudo tools/setup.sh` first (or set " +
              "%s to its folder).") % (ctx.name, local, ctx.attr.local_env))
    else:
        ctx.download_and_extract(
            url = ctx.attr.urls,
            sha256 = ctx.attr.sha256,
            stripPrefix = ctx.attr.strip_prefix,
        )
    ctx.file("WORKSPACE", 'workspace(name = "%s")\n' % ctx.name)

_source_repository = repository_rule(
    implementation = _source_repository_impl,
    doc = "A C++ source dependency: a local folder when present, else an archive.",
    attrs = {
        "local_path": attr.string(mandatory = True),
        "local_env": attr.string(mandatory = True),
        "local_build_file": attr.label(allow_single_file = True),
        "urls": attr.string_list(mandatory = True),
        "sha256": attr.string(mandatory = True),
        "strip_prefix": attr.string(),
    },
    environ = ["MP_DEPS", "MP_ABSEIL_SRC", "MP_GOOGLETEST_SRC", "MP_BENCHMARK_SRC"],
    local = True,
)

def _showme(ctx, tool, what):
    r = ctx.execute([tool, "--showme:" + what])
    if r.return_code != 0:
        fail("%s: `%s --showme:%s` failed: %s" % (ctx.name, tool, what, r.stderr))
    return [w for w in r.stdout.replace("\n", " ").split(" ") if w]

def _openmpi_repository_impl(ctx):
    mpicxx = ctx.os.environ.get("MP_MPICXX", "mpicxx")
    tool = ctx.which(mpicxx) if "/" not in mpicxx else ctx.path(mpicxx)
    if tool == None or not tool.exists:
        fail(("%s: Open MPI's %s was not found. The MPI pool (//:mp_mpi) " +
              "needs Open MPI: run `sudo tools/setup.sh` (Debian's openmpi-bin " +
              "and libopenmpi-dev), or set MP_MPICXX to its mpicxx.") % (ctx.name, mpicxx))

    includes = []
    for i, d in enumerate(_showme(ctx, tool, "incdirs")):
        ctx.symlink(d, "include%d" % i)
        includes.append("include%d" % i)
    libdirs = _showme(ctx, tool, "libdirs")
    linkopts = ["-L" + d for d in libdirs] + ["-Wl,-rpath," + d for d in libdirs] + ["-lmpi"]
    ctx.file("WORKSPACE", 'workspace(name = "%s")\n' % ctx.name)
    ctx.file("BUILD.bazel", """# Open MPI as installed here (`{tool} --showme`).
package(default_visibility = ["//visibility:public"])

cc_library(
    name = "mpi",
    hdrs = glob([{globs}]),
    # Only the C API: no deprecated C++ bindings.
    defines = ["OMPI_SKIP_MPICXX=1"],
    includes = {includes},
    linkopts = {linkopts},
)
""".format(
        tool = tool,
        globs = ", ".join(['"%s/**/*.h"' % i for i in includes]),
        includes = repr(includes),
        linkopts = repr(linkopts),
    ))

_openmpi_repository = repository_rule(
    implementation = _openmpi_repository_impl,
    doc = "Open MPI's headers and libmpi, found through its mpicxx wrapper.",
    environ = ["MP_MPICXX", "PATH"],
    local = True,
)

def mp_dependencies(offline = None, mp_path = "."):
    """Declares every external repository mp needs. Call it once from WORKSPACE.

    Args:
      offline: True for Debian's Bazel without network, False for a Bazel that
        can download. None (default) detects Debian's build by its empty version.
      mp_path: where mp's tree sits, relative to the main workspace's root
        ("." when mp is the workspace; e.g. "third_party/mp" when vendored,
        or a path outside it such as "../mp"), for the offline stand-ins.
    """
    if offline == None:
        offline = native.bazel_version == ""
    if offline:
        # Bazel 4.2.3 would try to download these three for any cc_test.
        native.local_repository(name = "rules_cc", path = mp_path + "/third_party/rules_cc")
        native.local_repository(name = "rules_java", path = mp_path + "/third_party/rules_java")
        native.local_repository(
            name = "remote_coverage_tools",
            path = mp_path + "/third_party/remote_coverage_tools",
        )

        # Bazel's built-in @platforms lacks constraints Abseil's BUILD files use.
        native.local_repository(
            name = "platforms",
            path = "/usr/share/bazel/tools/platforms",
        )
        native.local_repository(
            name = "bazel_skylib",
            path = "/usr/share/bazel/tools/skylib",
        )

    # Only the MPI pool (//:mp_mpi) needs it: a build that does not use it
    # never looks for Open MPI.
    _openmpi_repository(name = "openmpi")

    _source_repository(
        name = "com_google_absl",
        local_path = ABSEIL_SRC_DEFAULT,
        local_env = "MP_ABSEIL_SRC",
        urls = ["https://github.com/abseil/abseil-cpp/archive/refs/tags/%s.tar.gz" % ABSEIL_VERSION],
        sha256 = "91ac87d30cc6d79f9ab974c51874a704de9c2647c40f6932597329a282217ba8",
        strip_prefix = "abseil-cpp-" + ABSEIL_VERSION,
    )
    _source_repository(
        name = "com_google_googletest",
        local_path = GOOGLETEST_SRC_DEFAULT,
        local_env = "MP_GOOGLETEST_SRC",
        # Debian's copy has no BUILD file; the release archive has its own.
        local_build_file = Label("//third_party:googletest.BUILD"),
        urls = ["https://github.com/google/googletest/archive/refs/tags/release-%s.tar.gz" % GOOGLETEST_VERSION],
        sha256 = "81964fe578e9bd7c94dfdb09c8e4d6e6759e19967e397dbea48d1c10e45d0df2",
        strip_prefix = "googletest-release-" + GOOGLETEST_VERSION,
    )
    _source_repository(
        name = "com_google_benchmark",
        local_path = BENCHMARK_SRC_DEFAULT,
        local_env = "MP_BENCHMARK_SRC",
        # Our BUILD file: upstream's selects Windows by MSVC's cpu name.
        local_build_file = Label("//third_party:benchmark.BUILD"),
        urls = ["https://github.com/google/benchmark/archive/refs/tags/v%s.tar.gz" % BENCHMARK_VERSION],
        # The same bytes as Debian's benchmark_1.7.1.orig.tar.gz.
        sha256 = "6430e4092653380d9dc4ccb45a1e2dc9259d581f4866dc0759713126056bc1d7",
        strip_prefix = "benchmark-" + BENCHMARK_VERSION,
    )
