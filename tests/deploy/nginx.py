"""The production proxy config (deploy/nginx/) made runnable on this machine: the same
files with the workers' and the listening addresses of a test, a self-signed certificate
for 127.0.0.1 in certs/, and a real nginx started on them."""

from __future__ import annotations

import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def render_nginx(prefix: Path, upstreams: tuple[str, str], http_port: int = 18080, https_port: int = 18443) -> Path:
    """deploy/nginx/* under ``prefix`` with: the two workers at ``upstreams`` (host:port),
    ports 80/443 as ``http_port``/``https_port`` on 127.0.0.1, no IPv6 listeners, the
    challenge root under ``prefix``, a fresh self-signed certificate in certs/."""
    prefix.mkdir(parents=True)
    conf = (DEPLOY / "nginx" / "nginx.conf").read_text(encoding="utf-8")
    replacements = {
        "server worker-1:8080": f"server {upstreams[0]}",
        "server worker-2:8080": f"server {upstreams[1]}",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
        "root /var/www/acme;": f"root {prefix / 'acme'};",
    }
    for old, new in replacements.items():
        assert conf.count(old) == 1, old  # the production file still has what this renders
        conf = conf.replace(old, new)
    conf = "\n".join(line for line in conf.splitlines() if "listen [::]" not in line)
    (prefix / "nginx.conf").write_text(conf, encoding="utf-8")
    (prefix / "minping-locations.conf").write_text((DEPLOY / "nginx" / "minping-locations.conf").read_text())
    (prefix / "certs").mkdir()
    (prefix / "acme").mkdir()
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(prefix / "certs" / "privkey.pem"),
                    "-out", str(prefix / "certs" / "fullchain.pem")], check=True, capture_output=True)
    return prefix


class Nginx:
    """nginx in the foreground on a rendered prefix; stopped gracefully (SIGQUIT)."""

    def __init__(self, prefix: Path, https_port: int) -> None:
        self.prefix, self.https_port = prefix, https_port
        self.proc: subprocess.Popen | None = None
        self._log = open(prefix / "access.log", "wb")  # noqa: SIM115  (nginx's stdout: the access log)

    @property
    def cafile(self) -> str:
        return str(self.prefix / "certs" / "fullchain.pem")

    def __enter__(self) -> Nginx:
        self.proc = subprocess.Popen(
            ["nginx", "-p", str(self.prefix), "-c", str(self.prefix / "nginx.conf"), "-e", str(self.prefix / "error.log"),
             "-g", f"pid {self.prefix / 'nginx.pid'}; daemon off;"],
            stdout=self._log, stderr=subprocess.STDOUT)  # a file: a pipe nobody reads would fill and block nginx
        deadline = time.monotonic() + 10
        while True:
            try:  # the health paths are not public: a 404 from nginx itself means it serves
                urllib.request.urlopen(f"https://127.0.0.1:{self.https_port}/healthz", timeout=2,
                                       context=_context(self.cafile))
            except urllib.error.HTTPError as exc:
                if exc.code == 404:
                    return self
            except OSError:
                pass
            assert self.proc.poll() is None, (self.prefix / "error.log").read_text()
            assert time.monotonic() < deadline, "nginx did not start"
            time.sleep(0.1)

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()


def _context(cafile: str):  # noqa: ANN202
    import ssl

    return ssl.create_default_context(cafile=cafile)
