"""systemd/install.sh, staged into a temporary --prefix with stub commands on PATH.

Every command the installer might run (apt-get, systemctl, useradd, ..., python3 and the venv's
pip) is a stub that appends its name and arguments to a log. In staged mode the system commands
must only be printed ("would run: ..."), never executed; python3 -m venv and pip do run (the
stubs create a fake venv whose `breathring config defaults` prints a small config).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from testkit.units import analyze, fake_root, needs_analyze

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "systemd" / "install.sh"
BASH = shutil.which("bash")
pytestmark = pytest.mark.skipif(BASH is None, reason="bash not installed")

SYSTEM_COMMANDS = (
    "apt-get",
    "apt-cache",
    "systemctl",
    "useradd",
    "usermod",
    "groupadd",
    "userdel",
    "chgrp",
    "chown",
    "raspi-config",
)
UNIT = "etc/systemd/system/breathring.service"
VENV = "opt/breathring/venv"
CONFIG = "etc/breathring/config.toml"
LINK = "usr/local/bin/breathring"
DEFAULT_CONFIG = '# stub defaults\n[ring]\npixels = 24\ndriver = "spi"\n'
EXIT_USAGE = 2

LOGGING_STUB = """#!/bin/sh
echo "$(basename "$0") $*" >> "$STUB_LOG"
"""

# `python3 -m venv [--system-site-packages] DIR` makes DIR/bin/{python,pip}; `python3 -c` is the
# installer's version check (passes).
PYTHON_STUB = """#!/bin/sh
echo "python3 $*" >> "$STUB_LOG"
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
    for dir in "$@"; do :; done
    mkdir -p "$dir/bin"
    cp "$STUB_DIR/venv-python" "$dir/bin/python"
    cp "$STUB_DIR/venv-pip" "$dir/bin/pip"
fi
exit 0
"""

PIP_STUB = """#!/bin/sh
echo "pip $*" >> "$STUB_LOG"
bin="$(dirname "$0")"
cp "$STUB_DIR/venv-breathring" "$bin/breathring"
"""

# `breathring boot-config` is the real product (the SPI timing rules live only there).
BREATHRING_STUB = """#!/bin/sh
echo "breathring $*" >> "$STUB_LOG"
if [ "$1" = "boot-config" ]; then
    exec "$REAL_PYTHON" -c "from breathring.cli import main; raise SystemExit(main())" "$@"
fi
if [ "$1" = "config" ] && [ "$2" = "defaults" ]; then
    cat "$STUB_DIR/default-config.toml"
    exit 0
fi
if [ "$1" = "config" ] && [ "$2" = "show" ] && [ "$3" = "--config" ]; then
    cat "$4"
    exit 0
fi
if [ "$1" = "config" ] && [ "$2" = "check" ] && [ "$3" = "--config" ]; then
    if grep -q "bad" "$4"; then
        echo "$4: ring.pixels = bad is not a whole number" >&2
        exit 78
    fi
    exit 0
fi
exit 2
"""


@dataclass
class Stage:
    """A temporary world for one installer run: stubs, a fake source, a prefix, a log."""

    tmp: Path
    stubs: Path
    source: Path
    prefix: Path
    log: Path

    def run(self, *args: str, use_prefix: bool = True, **env: str) -> subprocess.CompletedProcess:
        full_env = {
            "PATH": f"{self.stubs}:/usr/bin:/bin",
            "STUB_LOG": str(self.log),
            "STUB_DIR": str(self.stubs),
            "HOME": str(self.tmp),
            "LANG": "C.UTF-8",
            "REAL_PYTHON": sys.executable,
            "PYTHONPATH": str(ROOT / "firmware"),
            **env,
        }
        argv = [str(BASH), str(SCRIPT)]
        if use_prefix:
            argv += ["--prefix", str(self.prefix)]
        argv += ["--source", str(self.source), *args]
        return subprocess.run(
            argv, capture_output=True, text=True, env=full_env, timeout=60, check=False
        )

    def ok(self, *args: str, **kwargs) -> str:
        result = self.run(*args, **kwargs)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []

    def path(self, rel: str) -> Path:
        return self.prefix / rel


def _write_exe(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    path.chmod(0o755)


@pytest.fixture
def stage(tmp_path: Path) -> Stage:
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    for name in SYSTEM_COMMANDS:
        _write_exe(stubs / name, LOGGING_STUB)
    _write_exe(stubs / "python3", PYTHON_STUB)
    _write_exe(stubs / "venv-python", LOGGING_STUB)
    _write_exe(stubs / "venv-pip", PIP_STUB)
    _write_exe(stubs / "venv-breathring", BREATHRING_STUB)
    (stubs / "default-config.toml").write_text(DEFAULT_CONFIG, encoding="utf-8")
    source = tmp_path / "src"
    (source / "docs").mkdir(parents=True)
    (source / "pyproject.toml").write_text('[project]\nname = "breathring"\n', encoding="utf-8")
    (source / "docs" / "on-the-pi.md").write_text("# On the Pi\n", encoding="utf-8")
    return Stage(tmp_path, stubs, source, tmp_path / "root", tmp_path / "calls.log")


def tree(prefix: Path) -> dict[str, str]:
    """Relative path -> content hash (or symlink target) of everything under prefix."""
    out: dict[str, str] = {}
    for path in sorted(prefix.rglob("*")):
        rel = str(path.relative_to(prefix))
        if path.is_symlink():
            out[rel] = "-> " + os.readlink(path)
        elif path.is_file():
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            out[rel] = f"{digest} {stat.S_IMODE(path.stat().st_mode):o}"
    return out


def system_calls(stage: Stage) -> list[str]:
    return [c for c in stage.calls() if c.split()[0] in SYSTEM_COMMANDS]


# --- a first install ------------------------------------------------------------------------


def test_files_land_under_the_prefix(stage: Stage) -> None:
    stage.ok("--no-start")
    unit = stage.path(UNIT)
    assert unit.read_bytes() == (ROOT / "systemd" / "breathring.service").read_bytes()
    assert stat.S_IMODE(unit.stat().st_mode) == 0o644
    assert (stage.path(VENV) / "bin" / "breathring").is_file()
    assert os.readlink(stage.path(LINK)) == "/opt/breathring/venv/bin/breathring"
    config = stage.path(CONFIG)
    assert config.read_text() == DEFAULT_CONFIG
    assert stat.S_IMODE(config.stat().st_mode) == 0o640
    assert stage.path("opt/breathring/docs/on-the-pi.md").read_text() == "# On the Pi\n"
    # Nothing outside the prefix: only these top-level folders were created.
    assert {p.name for p in stage.prefix.iterdir()} == {"etc", "opt", "usr"}


def test_staging_never_runs_system_commands(stage: Stage) -> None:
    out = stage.ok("--no-start")
    assert system_calls(stage) == []
    assert "would run: systemctl daemon-reload" in out
    assert "would run: systemctl enable breathring.service" in out
    assert "would run: systemctl restart" not in out  # --no-start
    assert "would run: raspi-config nonint do_spi 0" in out
    assert "would run: usermod --append --groups spi,gpio,audio breathring" in out
    assert "would run (if user breathring is missing): useradd --system" in out
    assert "python3-lgpio" in out
    assert "python3-pygame" in out


def test_venv_and_pip(stage: Stage) -> None:
    stage.ok("--no-start")
    venv = stage.path(VENV)
    assert f"python3 -m venv --system-site-packages {venv}" in stage.calls()
    pips = [c for c in stage.calls() if c.startswith("pip ")]
    assert pips == [f"pip install --disable-pip-version-check --upgrade {stage.source}[spi]"]
    assert "breathring config defaults" in stage.calls()
    assert f"breathring config check --config {stage.path(CONFIG)}" in stage.calls()


def test_start_restarts_the_service(stage: Stage) -> None:
    out = stage.ok()
    assert "would run: systemctl enable breathring.service" in out
    assert "would run: systemctl restart breathring.service" in out
    assert system_calls(stage) == []


def test_destdir_is_a_prefix(stage: Stage) -> None:
    stage.ok("--no-start", use_prefix=False, DESTDIR=str(stage.prefix))
    assert stage.path(UNIT).is_file()
    assert stage.path(CONFIG).is_file()
    assert system_calls(stage) == []


# --- idempotence and the user's config -------------------------------------------------------


def test_second_run_changes_nothing(stage: Stage) -> None:
    stage.ok("--no-start")
    before = tree(stage.prefix)
    out = stage.ok("--no-start")
    assert tree(stage.prefix) == before
    assert "reusing the existing venv" in out
    assert "kept your existing /etc/breathring/config.toml" in out
    venvs = [c for c in stage.calls() if c.startswith("python3 -m venv")]
    assert len(venvs) == 1
    assert [c for c in stage.calls() if c == "breathring config defaults"] == [
        "breathring config defaults"
    ]


def test_edited_config_survives_a_reinstall(stage: Stage) -> None:
    stage.ok("--no-start")
    edited = DEFAULT_CONFIG.replace("pixels = 24", "pixels = 16") + "# mine\n"
    stage.path(CONFIG).write_text(edited)
    stage.ok("--no-start")
    assert stage.path(CONFIG).read_text() == edited


def test_reinstall_with_another_driver_warns_about_the_kept_config(stage: Stage) -> None:
    stage.ok("--no-start")
    out = stage.ok("--no-start", "--driver", "pi5")
    assert 'it does not say driver = "pi5"' in out
    assert stage.path(CONFIG).read_text() == DEFAULT_CONFIG


def test_a_broken_config_is_reported_and_not_started(stage: Stage) -> None:
    stage.ok("--no-start")
    stage.path(CONFIG).write_text("[ring]\npixels = bad\n")
    result = stage.run()
    assert result.returncode == 0, result.stderr
    assert "ring.pixels = bad is not a whole number" in result.stderr
    assert "has errors" in result.stdout
    assert "would run: systemctl enable breathring.service" in result.stdout
    assert "would run: systemctl restart" not in result.stdout
    assert stage.path(CONFIG).read_text() == "[ring]\npixels = bad\n"


# --- drivers ---------------------------------------------------------------------------------


def test_pwm_installs_the_root_unit_under_the_common_name(stage: Stage) -> None:
    out = stage.ok("--no-start", "--driver", "pwm")
    assert (
        stage.path(UNIT).read_bytes() == (ROOT / "systemd" / "breathring-root.service").read_bytes()
    )
    assert 'driver = "pwm"' in stage.path(CONFIG).read_text()
    assert "raspi-config" not in out
    assert any(c.endswith(f"{stage.source}[pwm]") for c in stage.calls() if c.startswith("pip "))


def test_pi5_uses_the_unprivileged_unit(stage: Stage) -> None:
    stage.ok("--no-start", "--driver", "pi5")
    assert stage.path(UNIT).read_bytes() == (ROOT / "systemd" / "breathring.service").read_bytes()
    assert 'driver = "pi5"' in stage.path(CONFIG).read_text()


# --- uninstall -------------------------------------------------------------------------------


def test_uninstall_removes_unit_venv_and_link_but_keeps_config(stage: Stage) -> None:
    stage.ok("--no-start")
    stage.path("var/lib/breathring").mkdir(parents=True)
    (stage.path("var/lib/breathring") / "state.json").write_text("{}")
    out = stage.ok("--uninstall")
    assert not stage.path(UNIT).exists()
    assert not stage.path(VENV).exists()
    assert not stage.path("opt/breathring").exists()
    assert not stage.path(LINK).is_symlink()
    assert stage.path(CONFIG).read_text() == DEFAULT_CONFIG
    assert (stage.path("var/lib/breathring") / "state.json").exists()
    assert "Kept /etc/breathring" in out
    assert "would run: systemctl disable --now breathring.service" in out
    assert system_calls(stage) == []
    # A second uninstall is harmless.
    stage.ok("--uninstall")


def test_uninstall_leaves_a_foreign_command_alone(stage: Stage) -> None:
    link = stage.path(LINK)
    link.parent.mkdir(parents=True)
    link.symlink_to("/somewhere/else/breathring")
    stage.ok("--uninstall")
    assert os.readlink(link) == "/somewhere/else/breathring"


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--driver", "ws2812"), "--driver 'ws2812' is not a driver; allowed: spi pwm pi5"),
        (("--bogus",), "unknown option '--bogus'"),
        (("--driver",), "--driver needs a value"),
    ],
)
def test_usage_errors(stage: Stage, args: tuple[str, ...], message: str) -> None:
    result = stage.run(*args)
    assert result.returncode == EXIT_USAGE
    assert message in result.stderr
    assert not stage.prefix.joinpath("etc").exists()


def test_source_without_a_project_is_refused(stage: Stage) -> None:
    (stage.source / "pyproject.toml").unlink()
    result = stage.run("--no-start")
    assert result.returncode == EXIT_USAGE
    assert "has no pyproject.toml" in result.stderr
    assert stage.calls() == []


def test_help(stage: Stage) -> None:
    out = stage.ok("--help")
    assert out.startswith("usage: install.sh")
    assert "--uninstall" in out


@pytest.mark.skipif(os.geteuid() == 0, reason="runs as root: the check does not apply")
def test_a_real_install_needs_root(stage: Stage) -> None:
    result = stage.run("--no-start", use_prefix=False)
    assert result.returncode == 1
    assert "needs root" in result.stderr
    assert system_calls(stage) == []


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck not installed")
def test_shellcheck_is_clean() -> None:
    result = subprocess.run(
        ["shellcheck", str(SCRIPT)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout


# --- SPI clock in config.txt / cmdline.txt (issue 13 §2) ----------------------------------------

BOOT_FIXTURES = ROOT / "tests" / "data" / "boot"
MARKER = "# breathring: SPI timing for the LED ring (breathring boot-config)"
REBOOT_DUE = "A reboot is due"


def boot_stage(stage: Stage, fixture: str) -> Path:
    """Put a model's /proc/device-tree/model and boot files under the prefix; returns its
    config.txt (under the prefix)."""
    src = BOOT_FIXTURES / fixture
    model = stage.path("proc/device-tree/model")
    model.parent.mkdir(parents=True)
    shutil.copy(src / "model", model)
    shutil.copytree(src / "boot", stage.path("boot"))
    return next(
        p
        for p in (stage.path("boot/firmware/config.txt"), stage.path("boot/config.txt"))
        if p.exists()
    )


def block_of(text: str) -> list[str]:
    """The lines boot-config appended: [all], its marker, the settings (to the end)."""
    lines = text.splitlines()
    start = lines.index(MARKER)
    return lines[start - 1 :]


@pytest.mark.parametrize(
    ("fixture", "settings"),
    [
        ("pi3b-plus-bookworm", ["dtparam=spi=on", "core_freq=250"]),
        ("zero2w-bookworm", ["core_freq=250"]),  # its config.txt turns SPI on already
        ("pi4b-bullseye", ["core_freq=500", "core_freq_min=500"]),
        ("pi5-bookworm", ["dtparam=spi=on"]),
    ],
)
def test_spi_clock_for_the_model(stage: Stage, fixture: str, settings: list[str]) -> None:
    txt = boot_stage(stage, fixture)
    original = txt.read_text()
    out = stage.ok("--no-start")
    text = txt.read_text()
    # Ours come last, under [all], so they win; the backup is the file as it was.
    assert block_of(text) == ["[all]", MARKER, *settings]
    assert Path(str(txt) + ".breathring-backup").read_text() == original
    assert "a reboot is due for these settings to take effect" in out
    assert REBOOT_DUE in out
    assert any(
        c.startswith("breathring boot-config --fix --driver spi --model ") for c in stage.calls()
    )


def test_an_owners_conflicting_setting_is_turned_off_and_comes_back_at_uninstall(
    stage: Stage,
) -> None:
    txt = boot_stage(stage, "pi4b-bullseye")  # it sets core_freq=400
    original = txt.read_text()
    stage.ok("--no-start")
    assert "#core_freq=400  # breathring boot-config: replaced below" in txt.read_text()
    stage.ok("--uninstall")
    assert txt.read_text() == original


def test_spi_clock_is_idempotent(stage: Stage) -> None:
    txt = boot_stage(stage, "pi4b-bullseye")
    stage.ok("--no-start")
    once = txt.read_text()
    out = stage.ok("--no-start")
    assert txt.read_text() == once
    assert once.count(MARKER) == 1
    assert "have what SPI timing needs" in out
    assert REBOOT_DUE not in out


def test_no_boot_config_leaves_the_files_alone(stage: Stage) -> None:
    txt = boot_stage(stage, "pi3b-plus-bookworm")
    original = txt.read_text()
    out = stage.ok("--no-start", "--no-boot-config")
    assert txt.read_text() == original
    assert not Path(str(txt) + ".breathring-backup").exists()
    assert REBOOT_DUE not in out


def test_other_drivers_leave_the_boot_files_alone(stage: Stage) -> None:
    txt = boot_stage(stage, "pi4b-bullseye")
    original = txt.read_text()
    stage.ok("--no-start", "--driver", "pwm")
    assert txt.read_text() == original


def test_a_long_ring_gets_a_bigger_spidev_buffer(stage: Stage) -> None:
    boot_stage(stage, "pi3b-plus-bookworm")
    cmdline = stage.path("boot/firmware/cmdline.txt")
    original = cmdline.read_text()
    stage.path("etc/breathring").mkdir(parents=True)
    stage.path(CONFIG).write_text('[ring]\npixels = 300\ndriver = "spi"\n')
    stage.ok("--no-start")
    text = cmdline.read_text()
    # 300 GRB pixels: 8 SPI bytes per bit, 7200 bytes plus the resets: the next power of two.
    assert text == original.rstrip("\n") + " spidev.bufsiz=8192\n"
    assert len(text.splitlines()) == 1  # cmdline.txt must stay one line
    stage.ok("--no-start")
    assert cmdline.read_text() == text
    stage.ok("--uninstall")
    assert cmdline.read_text() == original


def test_a_short_ring_keeps_cmdline_txt(stage: Stage) -> None:
    boot_stage(stage, "pi3b-plus-bookworm")
    cmdline = stage.path("boot/firmware/cmdline.txt")
    original = cmdline.read_text()
    stage.ok("--no-start")  # the default config: 24 pixels
    assert cmdline.read_text() == original


def test_uninstall_takes_the_spi_lines_out_again(stage: Stage) -> None:
    txt = boot_stage(stage, "zero2w-bookworm")
    original = txt.read_text()
    stage.ok("--no-start")
    assert txt.read_text() != original
    out = stage.ok("--uninstall")
    assert txt.read_text() == original
    assert "breathring boot-config --undo" in "\n".join(stage.calls())
    assert "removed the SPI timing settings of breathring" in out


def test_off_a_pi_the_boot_files_are_left_alone(stage: Stage) -> None:
    stage.path("boot/firmware").mkdir(parents=True)
    txt = stage.path("boot/firmware/config.txt")
    txt.write_text("dtparam=audio=on\n")  # a boot partition, but no /proc/device-tree/model
    out = stage.ok("--no-start")
    assert txt.read_text() == "dtparam=audio=on\n"
    assert "SPI clock left alone" in out


# --- never half-way; companions; purge -------------------------------------------------------


def test_a_missing_companion_unit_is_reported_and_the_install_finishes(stage: Stage) -> None:
    missing = [
        u
        for u in ("breathring-web.service", "breathring-mqtt.service")
        if not (ROOT / "systemd" / u).exists()
    ]
    if not missing:
        pytest.skip("both companion units exist in this checkout")
    flag = "--web" if missing[0] == "breathring-web.service" else "--mqtt"
    result = stage.run(flag)
    assert result.returncode == 0, result.stderr
    assert f"has no systemd/{missing[0]}" in result.stdout
    assert "Installed, but the service cannot work fully yet" in result.stdout
    assert stage.path(UNIT).is_file()
    assert "would run: systemctl restart breathring.service" in result.stdout


@pytest.mark.parametrize(
    ("flag", "unit"), [("--web", "breathring-web.service"), ("--mqtt", "breathring-mqtt.service")]
)
def test_companion_units_are_installed_enabled_and_removed(
    stage: Stage, tmp_path: Path, flag: str, unit: str
) -> None:
    # A copy of the installer beside a stand-in companion unit (the real one may not exist yet).
    systemd_dir = tmp_path / "systemd"
    systemd_dir.mkdir()
    for name in ("install.sh", "breathring.service", "breathring-root.service"):
        shutil.copy(ROOT / "systemd" / name, systemd_dir / name)
    companion = "[Unit]\nDescription=stand-in\n[Service]\nExecStart=/bin/true\n"
    (systemd_dir / unit).write_text(companion)
    argv = [
        str(BASH),
        str(systemd_dir / "install.sh"),
        "--prefix",
        str(stage.prefix),
        "--source",
        str(stage.source),
        flag,
    ]
    env = {
        "PATH": f"{stage.stubs}:/usr/bin:/bin",
        "STUB_LOG": str(stage.log),
        "STUB_DIR": str(stage.stubs),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
    }
    result = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert stage.path(f"etc/systemd/system/{unit}").read_text() == companion
    assert f"would run: systemctl enable breathring.service {unit}" in result.stdout
    assert f"would run: systemctl restart breathring.service {unit}" in result.stdout
    result = subprocess.run(
        [*argv[:-1], "--uninstall"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert not stage.path(f"etc/systemd/system/{unit}").exists()
    assert f"would run: systemctl disable --now {unit}" in result.stdout


def test_uninstall_removes_the_user_it_created(stage: Stage) -> None:
    stage.ok("--no-start")
    out = stage.ok("--uninstall")
    assert "would run: userdel breathring" in out


def test_uninstall_purge_removes_config_and_state(stage: Stage) -> None:
    stage.ok("--no-start")
    stage.path("var/lib/breathring").mkdir(parents=True)
    (stage.path("var/lib/breathring") / "state.json").write_text("{}")
    out = stage.ok("--uninstall", "--purge")
    assert not stage.path("etc/breathring").exists()
    assert not stage.path("var/lib/breathring").exists()
    assert "(--purge)" in out


def test_purge_needs_uninstall(stage: Stage) -> None:
    result = stage.run("--purge")
    assert result.returncode == EXIT_USAGE
    assert "--purge goes with --uninstall" in result.stderr


def test_web_installs_its_extra_and_a_private_token_once(stage: Stage) -> None:
    stage.ok("--web", "--no-start")
    pips = [c for c in stage.calls() if c.startswith("pip ")]
    assert pips == [f"pip install --disable-pip-version-check --upgrade {stage.source}[spi,web]"]
    token_file = stage.path("etc/breathring/web.token")
    token = token_file.read_text()
    assert len(token) == 64 and int(token, 16) >= 0  # 32 random bytes as hex, one line
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o640
    # A second run keeps the token phones already hold.
    out = stage.ok("--web", "--no-start")
    assert token_file.read_text() == token
    assert "keeping the web token /etc/breathring/web.token" in out


def test_mqtt_installs_its_extra(stage: Stage) -> None:
    stage.ok("--mqtt", "--no-start")
    pips = [c for c in stage.calls() if c.startswith("pip ")]
    assert pips == [f"pip install --disable-pip-version-check --upgrade {stage.source}[spi,mqtt]"]
    assert not stage.path("etc/breathring/web.token").exists()


# --- a breath radar on a serial port: that one device for the unit, a free UART --------------

DROPIN = "etc/systemd/system/breathring.service.d/breath-sensor.conf"
C1001 = DEFAULT_CONFIG + '[breath_sensor]\nkind = "c1001"\ndevice = "/dev/serial0"\n'
FREE_UART = (
    "would run: raspi-config nonint do_serial_cons 1",
    "would run: raspi-config nonint do_serial_hw 0",
)


def install_with(stage: Stage, config: str, *args: str) -> str:
    conf = stage.path(CONFIG)
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.write_text(config)
    return stage.ok("--no-start", *args)


def settings(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line and not line.startswith("#")]


def test_a_serial_radar_gets_its_device_and_a_free_uart(stage: Stage) -> None:
    out = install_with(stage, C1001)
    assert settings(stage.path(DROPIN)) == [
        "[Service]",
        "DeviceAllow=/dev/serial0 rw",
        "SupplementaryGroups=dialout",
    ]
    for line in FREE_UART:
        assert line in out


def test_a_usb_serial_radar_leaves_the_boot_settings_alone(stage: Stage) -> None:
    out = install_with(stage, C1001.replace("/dev/serial0", "/dev/ttyUSB0"))
    assert "DeviceAllow=/dev/ttyUSB0 rw" in settings(stage.path(DROPIN))
    assert "do_serial" not in out
    assert "/dev/ttyUSB0 is not the Pi's own UART" in out


def test_no_boot_config_leaves_the_uart_alone(stage: Stage) -> None:
    out = install_with(stage, C1001, "--no-boot-config")
    assert stage.path(DROPIN).is_file()
    assert "do_serial" not in out


def test_without_a_serial_radar_there_is_no_drop_in_and_an_old_one_goes(stage: Stage) -> None:
    out = install_with(stage, DEFAULT_CONFIG + '[breath_sensor]\nkind = "mqtt"\n')
    assert not stage.path(DROPIN).exists() and "do_serial" not in out
    install_with(stage, C1001)
    mine = stage.path(DROPIN).with_name("mine.conf")
    mine.write_text("[Service]\nNice=5\n")
    out = install_with(stage, DEFAULT_CONFIG)
    assert not stage.path(DROPIN).exists()
    assert mine.is_file()  # the owner's own drop-in stays
    assert "removed /etc/systemd/system/breathring.service.d/breath-sensor.conf" in out


def test_uninstall_removes_the_drop_in(stage: Stage) -> None:
    install_with(stage, C1001)
    stage.ok("--uninstall")
    assert not stage.path(DROPIN).parent.exists()


@needs_analyze
def test_the_unit_with_the_drop_in_verifies_clean(stage: Stage, tmp_path: Path) -> None:
    install_with(stage, C1001)
    unit = stage.path(UNIT)
    root = fake_root(tmp_path / "verify", unit, with_exec=True)
    shutil.copytree(stage.path(DROPIN).parent, root / "etc/systemd/system/breathring.service.d")
    result = analyze("verify", f"--root={root}", unit.name)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr


@pytest.mark.parametrize("codename", ["trixie", "bookworm"])
def test_packages_are_looked_up_for_the_release_in_os_release(stage: Stage, codename: str) -> None:
    os_release = stage.path("etc/os-release")
    os_release.parent.mkdir(parents=True)
    os_release.write_text(f'ID=debian\nVERSION_CODENAME={codename}\nVERSION_ID="x"\n')
    out = stage.ok("--no-start")
    assert f"Debian packages (for {codename})" in out
    assert f"would look each package up with apt-cache policy on {codename}" in out
    assert system_calls(stage) == []
