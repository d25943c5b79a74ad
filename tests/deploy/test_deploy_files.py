"""The deploy files, checked as far as a machine without a Docker daemon allows: the
compose file against the Compose specification's schema and for what production needs,
the Dockerfile by hadolint and our own rules, the proxy by ``nginx -t``, the systemd
units by ``systemd-analyze verify``. Each checker is shown to catch a broken file too."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from ruamel.yaml import YAML

from bot.settings import Settings
from tests.deploy.nginx import render_nginx

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent


def compose() -> dict:
    return YAML(typ="safe").load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


def env_example() -> dict[str, str]:
    out = {}
    for line in (DEPLOY / ".env.example").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            out[name] = value
    return out


def check_compose_schema(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(path)],
                          capture_output=True, text=True)


def test_compose_file_follows_the_compose_specification(tmp_path):
    ok = check_compose_schema(DEPLOY / "compose.yaml")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    broken = tmp_path / "compose.yaml"  # a typo in a health check is caught
    broken.write_text((DEPLOY / "compose.yaml").read_text().replace("start_period: 30s", "start_periode: 30s"))
    bad = check_compose_schema(broken)
    assert bad.returncode == 1 and "start_periode" in bad.stdout + bad.stderr


def test_compose_runs_postgres_migrate_two_webhook_workers_and_the_proxy():
    c = compose()
    services = c["services"]
    assert {"db", "migrate", "worker-1", "worker-2", "proxy"} <= set(services)
    assert re.fullmatch(r"postgres:\d+\.\d+-bookworm", services["db"]["image"])  # pinned
    assert re.fullmatch(r"nginx:\d+\.\d+\.\d+-bookworm", services["proxy"]["image"])
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])
    assert services["migrate"]["command"] == ["migrate"]
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    for name in ("worker-1", "worker-2"):
        w = services[name]
        assert w["command"] == ["run"] and w["restart"] == "unless-stopped"
        env = w["environment"]
        assert env["MINPING_WEBHOOK_URL"].startswith("${MINPING_WEBHOOK_URL:?")  # webhook mode, required
        assert env["MINPING_WEBHOOK_SECRET"].startswith("${MINPING_WEBHOOK_SECRET:?")  # one secret for all
        assert env["DATABASE_URL"].startswith("postgresql://") and "@db:5432/" in env["DATABASE_URL"]
        assert env["MINPING_LISTEN"] == "0.0.0.0:8080"
        assert w["depends_on"] == {"db": {"condition": "service_healthy"},
                                   "migrate": {"condition": "service_completed_successfully"}}
        assert "/readyz" in " ".join(w["healthcheck"]["test"])
        assert "ports" not in w  # reachable only through the proxy
    proxy = services["proxy"]
    assert sorted(proxy["ports"]) == ["443:443", "80:80"]
    assert {d: v["condition"] for d, v in proxy["depends_on"].items()} == {"worker-1": "service_healthy",
                                                                          "worker-2": "service_healthy"}
    mounts = " ".join(proxy["volumes"])
    assert "./nginx/nginx.conf:/etc/nginx/nginx.conf:ro" in mounts and "minping-locations.conf" in mounts
    assert services["db"]["volumes"] == ["pgdata:/var/lib/postgresql/data"] and "pgdata" in c["volumes"]
    # No scheduler service of its own: the workers compete for the database lease.
    assert not any("scheduler" in n for n in services)


def test_every_variable_of_the_compose_file_is_in_the_env_example_and_known_to_minping():
    text = (DEPLOY / "compose.yaml").read_text(encoding="utf-8")
    used = set(re.findall(r"\$\{([A-Z_]+)", text))
    example = env_example()
    assert used <= set(example), used - set(example)
    known = {f.alias for f in Settings.model_fields.values()}
    compose_only = {"POSTGRES_PASSWORD", "MINPING_VERSION"}
    assert set(example) - compose_only <= known, set(example) - compose_only - known
    assert "TELEGRAM_BOT_TOKEN" in example
    services = compose()["services"]
    for name in ("worker-1", "worker-2"):
        assert set(services[name]["environment"]) <= known
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,256}", example["MINPING_WEBHOOK_SECRET"])  # what Telegram accepts


def hadolint(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "hadolint"), "--no-color", str(path)], capture_output=True, text=True)


def test_dockerfile_passes_hadolint_and_our_rules(tmp_path):
    ok = hadolint(ROOT / "Dockerfile")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    bases = re.findall(r"^FROM (\S+)", text, re.M)
    assert len(bases) == 2 and bases[0] == bases[1].split()[0]  # multi-stage, one base
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm", bases[1])  # pinned
    assert "COPY --from=build /opt/minping /opt/minping" in text
    user = re.findall(r"^USER (\S+)", text, re.M)
    assert user and user[-1].split(":")[0].isdigit() and user[-1].split(":")[0] != "0"  # not root
    assert re.search(r"^HEALTHCHECK .*\n.*/healthz", text, re.M)
    assert 'ENTRYPOINT ["minping"]' in text and 'CMD ["run"]' in text
    assert "--no-install-recommends" in text and "rm -rf /var/lib/apt/lists/*" in text
    assert "mplfonts" in (ROOT / "pyproject.toml").read_text()  # the CJK font comes with the package
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", ".env", "var", "tests"} <= set(ignored)
    bad = tmp_path / "Dockerfile"  # hadolint catches what we care about
    bad.write_text("FROM python:latest\nRUN apt-get update && apt-get install -y curl\nUSER root\n")
    caught = hadolint(bad)
    assert caught.returncode == 1 and {"DL3007", "DL3008", "DL3015", "DL3002"} <= set(
        re.findall(r"DL\d{4}", caught.stdout))


def nginx_test(prefix: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["nginx", "-t", "-p", str(prefix), "-c", str(prefix / "nginx.conf"),
                           "-e", str(prefix / "error.log"), "-g", f"pid {prefix / 'nginx.pid'};"],
                          capture_output=True, text=True)


def test_the_proxy_config_passes_nginx_t(tmp_path):
    assert shutil.which("nginx"), "nginx is not installed: `make test` installs it (Debian package nginx)"
    prefix = render_nginx(tmp_path / "ok", upstreams=("127.0.0.1:18081", "127.0.0.1:18082"))
    ok = nginx_test(prefix)
    assert ok.returncode == 0 and "test is successful" in ok.stderr, ok.stderr
    broken = render_nginx(tmp_path / "bad", upstreams=("127.0.0.1:18081", "127.0.0.1:18082"))
    conf = broken / "minping-locations.conf"
    conf.write_text(conf.read_text().replace("proxy_read_timeout 60s;", "proxy_read_timeout 60s"))
    bad = nginx_test(broken)
    assert bad.returncode == 1 and "minping-locations.conf" in bad.stderr


def systemd_verify(units: list[Path]) -> subprocess.CompletedProcess:
    return subprocess.run(["systemd-analyze", "verify", "--man=no", *map(str, units)], capture_output=True, text=True)


def test_systemd_units_pass_systemd_analyze_verify(tmp_path):
    assert shutil.which("systemd-analyze"), "systemd-analyze is not installed: `make test` installs it"
    units = []
    for name in ("minping.service", "minping-backup.service", "minping-backup.timer"):
        # the executable at the path of this machine's install (the unit names /opt/minping)
        text = (DEPLOY / name).read_text().replace("/opt/minping/bin/minping", str(BIN / "minping"))
        (tmp_path / name).write_text(text)
        units.append(tmp_path / name)
    ok = systemd_verify(units)
    assert ok.returncode == 0 and ok.stdout + ok.stderr == "", ok.stdout + ok.stderr
    service = (DEPLOY / "minping.service").read_text()
    assert "ExecStart=/opt/minping/bin/minping run" in service and "User=minping" in service
    assert "KillSignal=SIGTERM" in service and "TimeoutStopSec=15" in service
    (tmp_path / "minping.service").write_text(units[0].read_text().replace("Restart=on-failure", "Restart=sometimes"))
    bad = systemd_verify([tmp_path / "minping.service"])
    assert "restart specifier" in bad.stdout + bad.stderr and "sometimes" in bad.stderr
