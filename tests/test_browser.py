"""The series as a reader meets it: JupyterLab in a real browser, sliders and animations included.

nbval runs every cell but never draws a widget. This test starts JupyterLab on localhost (a free
port, a token, its own temporary config, runtime and data directories), drives headless Chromium
through Playwright, runs notebooks 01, 02, 04 and 06 from JupyterLab's "Run" menu and checks what a
reader would see: the sliders render, moving the epsilon slider redraws the prediction, the
traversal animation plays frame by frame, strokes drawn with the mouse on 06's sketch pad get both
models' readings and its clean-up button changes the picture, and no cell prints an error and no
widget raises a JavaScript error.

It needs the ``playwright`` package (``pip install -r requirements-browser.txt``) and a Chromium
or Chrome binary: Debian's ``/usr/bin/chromium`` (``apt-get install chromium``) or the one named
by the environment variable ``BROWSER_TEST_CHROMIUM``. Playwright's own browser download is never
used. Without either, the test is skipped with the reason. Screenshots of what it saw go to
``artifacts/browser/`` (ignored by git). The notebooks are never saved: autosave is off.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts" / "browser"
NOTEBOOK_DIR = "notebooks"

# --- What is needed, found once per module: missing pieces skip the test with the reason -------


def _find_chromium() -> tuple[str | None, str]:
    """(path, why not) of the browser: $BROWSER_TEST_CHROMIUM, else Debian's chromium or a Chrome."""
    named = os.environ.get("BROWSER_TEST_CHROMIUM")
    if named:
        path = Path(named).expanduser()
        if path.is_file() and os.access(path, os.X_OK):
            return str(path), ""
        return None, f"BROWSER_TEST_CHROMIUM={named} is not an executable file"
    for candidate in ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(candidate)
        if found:
            return found, ""
    return None, ("no Chromium found: install Debian's (apt-get install chromium) or set "
                  "BROWSER_TEST_CHROMIUM to a Chrome/Chromium binary")


CHROMIUM, _why_no_chromium = _find_chromium()
if CHROMIUM is None:
    pytest.skip(f"browser test skipped: {_why_no_chromium}", allow_module_level=True)
try:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright
except ImportError as _error:
    pytest.skip(f"browser test skipped: the playwright package is missing ({_error}); "
                "pip install -r requirements-browser.txt", allow_module_level=True)
if importlib.util.find_spec("jupyterlab") is None:
    pytest.skip("browser test skipped: JupyterLab is not installed (pip install -r requirements.txt)",
                allow_module_level=True)

# Flags for headless Chromium as root on a machine without internet: no sandbox (root), no GPU,
# and none of Chromium's own background connections (update checks, sync, field trials), which
# a closed network refuses over and over.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]

# JupyterLab user settings for the test server (in its temporary config directory): never save a
# notebook (the run must not touch the files in the repository), keep every cell in the page (so
# that cells scrolled out of view can be inspected) and ask no one on the internet for news.
LAB_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification": {"checkForUpdates": False, "fetchNews": "false"},
}

# The server's own configuration: checkpoints (which JupyterLab writes when it opens a notebook)
# go to the temporary directory instead of notebooks/.ipynb_checkpoints, any save is refused (a
# second guard besides autosave off).
SERVER_CONFIG = """
from tornado.web import HTTPError

def refuse_to_save(model, path, contents_manager, **kwargs):
    raise HTTPError(403, f"browser test: not saving {{path}}: the repository's files stay as they are")

c.FileCheckpoints.root_dir = {checkpoints!r}
c.FileContentsManager.pre_save_hook = refuse_to_save
"""

SERVER_START_S = 90     # JupyterLab answering on its port
KERNEL_READY_S = 60     # the notebook's kernel started and idle
RUN_ALL_S = 150         # every cell of one notebook executed
WIDGET_S = 30           # a widget drawn / redrawn after a slider move


# --- The server -----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Lab:
    """A JupyterLab server serving the repository on localhost, for this test only."""

    def __init__(self, workdir: Path):
        self.port = _free_port()
        self.token = uuid.uuid4().hex
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "jupyterlab.log"
        config, runtime, data = (workdir / name for name in ("config", "runtime", "data"))
        for name, values in LAB_SETTINGS.items():
            path = config / "lab" / "user-settings" / f"{name}.jupyterlab-settings"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        (workdir / "checkpoints" / NOTEBOOK_DIR).mkdir(parents=True)  # must exist, or /tmp is used
        (config / "jupyter_server_config.py").write_text(SERVER_CONFIG.format(checkpoints=str(workdir / "checkpoints")))
        env = {**os.environ, "JUPYTER_CONFIG_DIR": str(config), "JUPYTER_RUNTIME_DIR": str(runtime),
               "JUPYTER_DATA_DIR": str(data), "JUPYTER_PLATFORM_DIRS": "1", "PYTHONUNBUFFERED": "1"}
        command = [
            sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={ROOT}",
            "--ServerApp.open_browser=False", "--LabApp.news_url=None",
        ]
        self._log = open(self.log_path, "w")
        # A session of its own, so that teardown can end the server and everything it started.
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self._log,
                                        stderr=subprocess.STDOUT, start_new_session=True)

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text()[-chars:]
        except OSError:
            return ""

    def api(self, path: str, method: str = "GET") -> object:
        request = urllib.request.Request(f"{self.url}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def wait_until_ready(self) -> None:
        deadline = time.monotonic() + SERVER_START_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"JupyterLab exited with code {self.process.returncode}:\n{self.log_tail()}")
            try:
                self.api("/api/status")
            except OSError:
                time.sleep(0.5)
                continue
            if "Exception while loading config file" in self.log_tail(100_000):
                raise AssertionError(f"JupyterLab could not read the test's configuration:\n{self.log_tail()}")
            return
        raise AssertionError(f"JupyterLab did not answer on {self.url} within {SERVER_START_S} s:\n"
                             f"{self.log_tail()}")

    def shut_down_kernels(self) -> None:
        for session in self.api("/api/sessions") or []:
            self.api(f"/api/sessions/{session['id']}", method="DELETE")

    @staticmethod
    def _stat(pid: int | str) -> tuple[int, str] | None:
        """(parent id, start time) of a process, from /proc (Linux); None if it is gone."""
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return None
        return int(fields[1]), fields[19]

    def _children(self) -> list[tuple[int, str]]:
        """(process id, start time) of what the server started: its kernels."""
        children = []
        for entry in Path("/proc").glob("[0-9]*"):
            stat = self._stat(entry.name)
            if stat and stat[0] == self.process.pid:
                children.append((int(entry.name), stat[1]))
        return children

    def stop(self) -> None:
        """Shut the kernels and the server down, politely first, then by force."""
        children = self._children() if self.process.poll() is None else []
        if self.process.poll() is None:
            try:
                self.shut_down_kernels()
            except Exception:  # noqa: BLE001: the server may already be half gone; go on
                pass
            try:
                self.process.send_signal(signal.SIGINT)  # twice: jupyter asks "shut down?" after one
                time.sleep(0.3)
                self.process.send_signal(signal.SIGINT)
                self.process.wait(timeout=20)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                pass
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        for pid, started in children:  # kernels run in sessions of their own: end any left behind
            stat = self._stat(pid)
            if stat and stat[1] == started:  # the same process, not a new one with a reused id
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self._log.close()


@pytest.fixture(scope="module")
def lab():
    workdir = Path(tempfile.mkdtemp(prefix="browser-test-"))
    server = None
    try:
        server = Lab(workdir)
        server.wait_until_ready()
        yield server
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def browser():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):  # the folder shows this run only
        old.unlink()
    profile = Path(tempfile.mkdtemp(prefix="browser-test-chromium-"))
    try:
        with sync_playwright() as playwright:
            # A persistent context is how Chromium gets a new, empty --user-data-dir.
            context = playwright.chromium.launch_persistent_context(
                str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
                viewport={"width": 1400, "height": 1000}, device_scale_factor=1)
            try:
                yield context
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


# --- A notebook, open in the browser --------------------------------------------------------------

# The one kind of console error that is not the notebook's fault: a resource on another host
# that an offline machine cannot fetch. matplotlib's animation HTML links Font Awesome from a CDN
# (maxcdn.bootstrapcdn.com); JupyterLab ships the same icons, so the buttons look right offline.
# Everything else, including a failed request to the JupyterLab server (a widget bundle missing,
# say), and every uncaught page error fails the test.
OFFLINE_NOISE = re.compile(r"Failed to load resource|net::ERR_")


class NotebookPage:
    """One notebook opened in JupyterLab, with the browser's errors collected as they happen."""

    def __init__(self, lab: Lab, context, name: str):
        self.lab, self.name = lab, name
        self.page = context.new_page()
        self.console_errors: list[tuple[str, str]] = []  # (text, url of its source)
        self.page_errors: list[str] = []
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        self.page.set_default_timeout(WIDGET_S * 1000)

    def _on_console(self, message) -> None:
        if message.type == "error":
            location = (message.location or {}).get("url", "")
            self.console_errors.append((message.text, location))

    def shot(self, what: str, locator=None) -> Path:
        path = ARTIFACTS / f"{self.name}__{what}.png"
        (locator or self.page).screenshot(path=str(path))
        return path

    def open_and_run_all(self) -> None:
        page = self.page
        started = time.monotonic()
        page.goto(f"{self.lab.url}/lab/tree/{NOTEBOOK_DIR}/{self.name}.ipynb?reset&token={self.lab.token}")
        notebook = page.locator(".jp-NotebookPanel:visible .jp-Notebook")
        notebook.first.wait_for(state="visible", timeout=KERNEL_READY_S * 1000)
        self.wait_for_kernel_idle(KERNEL_READY_S, "to start")
        print(f"{self.name}: JupyterLab, notebook and kernel ready in {time.monotonic() - started:.1f} s")
        started = time.monotonic()
        # Run > Run All Cells, as a reader would.
        page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Run$")).click()
        page.locator(".lm-Menu-item").filter(
            has=page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$"))).click()
        self._wait_for_all_cells_run()
        print(f"{self.name}: Run All Cells finished in {time.monotonic() - started:.1f} s")

    def wait_for_kernel_idle(self, seconds: float, what: str) -> None:
        """Wait for the notebook's kernel to be up and idle, answering a "Select Kernel" dialog
        with its default (Python 3) as a reader would: JupyterLab asks when the kernel list
        arrives late, which happens on a busy machine."""
        deadline = time.monotonic() + seconds
        dialog = self.page.locator(".jp-Dialog", has_text="Select Kernel")
        indicator = self.page.locator(".jp-NotebookPanel:visible .jp-Notebook-ExecutionIndicator")
        while time.monotonic() < deadline:
            if dialog.is_visible():
                dialog.locator("button.jp-mod-accept").click()
            sessions = [s for s in self.lab.api("/api/sessions") or []
                        if s.get("path", "").endswith(f"{self.name}.ipynb") and s.get("kernel")]
            if (sessions and sessions[0]["kernel"].get("execution_state") == "idle"
                    and indicator.get_attribute("data-status") == "idle" and not dialog.is_visible()):
                return
            time.sleep(0.5)
        self.shot("kernel_not_idle")
        raise AssertionError(f"{self.name}: the kernel did not {what} (not idle after {seconds} s)\n"
                             f"{self.lab.log_tail(1500)}")

    def _wait_for_all_cells_run(self) -> None:
        # Done when every code cell shows an execution count ("[3]:") and the kernel is idle.
        script = """() => {
            const panel = [...document.querySelectorAll('.jp-NotebookPanel')].find(p => p.offsetParent);
            if (!panel) return false;
            const prompts = [...panel.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')];
            const status = panel.querySelector('.jp-Notebook-ExecutionIndicator');
            return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent))
                && status && status.getAttribute('data-status') === 'idle';
        }"""
        try:
            self.page.wait_for_function(script, timeout=RUN_ALL_S * 1000, polling=500)
        except PlaywrightError as error:
            prompts = self.page.locator(".jp-NotebookPanel:visible .jp-CodeCell .jp-InputArea-prompt")
            states = [text.strip() for text in prompts.all_inner_texts()]
            self.shot("run_all_not_finished")
            raise AssertionError(f"{self.name}: Run All Cells did not finish within {RUN_ALL_S} s; "
                                 f"cell prompts: {states}") from error

    def cells(self):
        return self.page.locator(".jp-NotebookPanel:visible .jp-Notebook")

    def assert_no_error_output(self) -> None:
        notebook = self.cells()
        # JupyterLab draws both stderr streams and tracebacks with the stderr MIME type.
        errors = notebook.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
        texts = [text[:500] for text in errors.all_inner_texts()]
        # A widget that fails to render draws an error box instead (ipywidgets 8).
        broken = notebook.locator(".jupyter-widgets-error-widget").or_(
            notebook.get_by_text(re.compile(r"Error displaying widget|Failed to load model class")))
        texts += [f"widget error: {text[:300]}" for text in broken.all_inner_texts()]
        if texts:
            self.shot("error_output")
        assert not texts, f"{self.name}: the page shows error output:\n" + "\n---\n".join(texts)

    def assert_no_javascript_errors(self) -> None:
        problems = [f"uncaught: {text}" for text in self.page_errors]
        for text, url in self.console_errors:
            offline = OFFLINE_NOISE.search(text) and url.startswith("http") and not url.startswith(self.lab.url)
            if offline:
                print(f"{self.name}: ignored (offline): {text} ({url})")
            else:
                problems.append(f"console: {text} ({url})")
        assert not problems, f"{self.name}: JavaScript errors in the page:\n" + "\n".join(problems)

    def close(self) -> None:
        try:
            self.page.close()
        finally:
            self.lab.shut_down_kernels()


@pytest.fixture
def open_notebook(lab, browser):
    opened: list[NotebookPage] = []

    def opener(name: str) -> NotebookPage:
        if not (ROOT / NOTEBOOK_DIR / f"{name}.ipynb").is_file():
            pytest.fail(f"{NOTEBOOK_DIR}/{name}.ipynb is missing")
        notebook = NotebookPage(lab, browser, name)
        opened.append(notebook)
        notebook.open_and_run_all()
        return notebook

    yield opener
    for notebook in opened:
        for text in notebook.page_errors:  # shown with a failure, whatever assertion failed first
            print(f"{notebook.name}: page error: {text}")
        for text, url in notebook.console_errors:
            print(f"{notebook.name}: console error: {text} ({url})")
        try:
            notebook.close()
        except Exception as error:  # noqa: BLE001: the server fixture still stops everything
            print(f"{notebook.name}: closing failed: {error}")


# --- What a reader sees ---------------------------------------------------------------------------


def _slider_panel(notebook: NotebookPage, label: str):
    """(panel, slider): the last widget box holding an output area and a slider whose description
    starts with ``label``."""
    page = notebook.page
    slider = page.locator(".widget-slider").filter(
        has=page.locator(".widget-label", has_text=re.compile(rf"^\s*{label}")))
    panel = notebook.cells().locator(".widget-vbox").filter(has=slider).filter(
        has=page.locator(".widget-output")).last
    try:
        panel.wait_for(state="visible", timeout=WIDGET_S * 1000)
    except PlaywrightError as error:
        notebook.shot(f"no_{label.replace(' ', '_')}_slider")
        widgets = notebook.cells().locator(".jupyter-widgets").count()
        raise AssertionError(f"{notebook.name}: no visible '{label}' slider with an output area rendered "
                             f"({widgets} .jupyter-widgets elements in the page)") from error
    return panel, panel.locator(".widget-slider").filter(
        has=page.locator(".widget-label", has_text=re.compile(rf"^\s*{label}"))).first


def _image_src(notebook: NotebookPage, area, what: str) -> str:
    """The src of the picture shown in ``area``, once it is drawn (loaded, with a size)."""
    image = area.locator("img").first
    try:
        image.wait_for(state="visible", timeout=WIDGET_S * 1000)
        notebook.page.wait_for_function("img => img.complete && img.naturalWidth > 0",
                                        arg=image.element_handle(), timeout=WIDGET_S * 1000)
    except PlaywrightError as error:
        notebook.shot(f"no_{what.replace(' ', '_')}_image")
        shown = area.inner_text().strip()[:200] if area.count() else "(nothing)"
        raise AssertionError(f"{notebook.name}: the {what} shows no picture; it shows: {shown!r}") from error
    return image.get_attribute("src") or ""


def _wait_for_new_image(notebook: NotebookPage, area, before: str, what: str) -> str:
    """Wait until the image in ``area`` is no longer ``before`` and the kernel is idle again."""
    try:
        notebook.page.wait_for_function(
            "([el, before]) => { const img = el.querySelector('img');"
            " return img && img.src && img.src !== before; }",
            arg=[area.element_handle(), before], timeout=WIDGET_S * 1000, polling=200)
    except PlaywrightError as error:
        notebook.shot(f"{what.replace(' ', '_')}_unchanged")
        raise AssertionError(f"{notebook.name}: {what}: the image did not change within {WIDGET_S} s") from error
    notebook.wait_for_kernel_idle(WIDGET_S, f"finish redrawing after {what}")
    return _image_src(notebook, area, what)


def _move_slider(notebook: NotebookPage, slider, key: str) -> tuple[str, str]:
    """Focus the slider's handle and press ``key`` once, as a keyboard user moves a slider (one
    value change, so one redraw); returns the readout before and after."""
    readout = slider.locator(".widget-readout")
    before = readout.inner_text().strip()
    handle = slider.locator(".noUi-handle").first
    handle.scroll_into_view_if_needed()
    handle.focus()
    handle.press(key)
    try:
        notebook.page.wait_for_function("([el, before]) => el.textContent.trim() !== before",
                                        arg=[readout.element_handle(), before], timeout=5000)
    except PlaywrightError as error:
        raise AssertionError(f"{notebook.name}: pressing {key} on the slider did not move it "
                             f"(readout stays {before})") from error
    return before, readout.inner_text().strip()


def test_01_epsilon_slider_redraws_the_prediction(open_notebook):
    notebook = open_notebook("01_adversarial_examples")
    panel, slider = _slider_panel(notebook, "epsilon")
    sliders = notebook.cells().locator(".widget-slider")
    hidden = [i for i in range(sliders.count()) if not sliders.nth(i).is_visible()]
    assert not hidden, f"01: sliders number {hidden} (of {sliders.count()}) are not visible"
    output = panel.locator(".widget-output")
    before_src = _image_src(notebook, output, "epsilon panel")
    notebook.shot("epsilon_panel_before", panel)

    before, after = _move_slider(notebook, slider, "PageUp")
    after_src = _wait_for_new_image(notebook, output, before_src, "moving the epsilon slider")
    notebook.shot("epsilon_panel_after", panel)
    assert float(after) > float(before), f"01: epsilon went from {before} to {after}, expected it to grow"
    assert after_src != before_src

    notebook.shot("page")
    notebook.assert_no_error_output()
    notebook.assert_no_javascript_errors()


def test_02_pgd_sliders_render_and_redraw(open_notebook):
    notebook = open_notebook("02_pgd")
    panel, slider = _slider_panel(notebook, "epsilon")
    for label in ("step size", "steps"):
        other = panel.locator(".widget-slider").filter(
            has=notebook.page.locator(".widget-label", has_text=re.compile(rf"^\s*{label}\s*$")))
        assert other.count() >= 1 and other.first.is_visible(), f"02: the PGD '{label}' slider did not render"
    assert panel.locator(".widget-toggle-buttons").first.is_visible(), "02: the norm chooser did not render"
    output = panel.locator(".widget-output")
    before_src = _image_src(notebook, output, "PGD panel")
    notebook.shot("pgd_panel_before", panel)

    before, after = _move_slider(notebook, slider, "PageDown")
    _wait_for_new_image(notebook, output, before_src, "moving the PGD epsilon slider")
    notebook.shot("pgd_panel_after", panel)
    assert float(after) < float(before), f"02: epsilon went from {before} to {after}, expected it to shrink"

    notebook.assert_no_error_output()
    notebook.assert_no_javascript_errors()


def test_04_traversal_animation_and_frame_slider(open_notebook):
    notebook = open_notebook("04_class_traversal")
    page = notebook.page

    # The animation from helpers.plotting.animate_frames (matplotlib's to_jshtml).
    animation = notebook.cells().locator(".animation").filter(has=page.locator("img")).first
    try:
        animation.wait_for(state="visible", timeout=WIDGET_S * 1000)
    except PlaywrightError as error:
        notebook.shot("no_animation")
        raise AssertionError("04: the traversal animation (an <img> with frame controls) did not render") from error
    frame_slider = animation.locator("input.anim-slider")
    next_button = animation.locator('button[title="Next frame"]')
    assert frame_slider.is_visible() and next_button.is_visible(), "04: the animation has no frame controls"
    animation.scroll_into_view_if_needed()
    animation.locator('button[title="First frame"]').click()
    first_src = _image_src(notebook, animation, "animation")
    assert first_src.startswith("data:image/"), f"04: the animation shows no frame (src {first_src[:40]!r})"
    assert frame_slider.input_value() == "0"
    notebook.shot("animation_first_frame", animation)
    next_button.click()
    second_src = _wait_for_new_image(notebook, animation, first_src, "the animation's Next frame button")
    assert frame_slider.input_value() == "1", "04: Next frame did not move the animation's frame slider"
    last = frame_slider.get_attribute("max")
    assert last and int(last) >= 2, f"04: the animation has only {last} frames"
    frame_slider.fill(last)  # drag the frame slider to the end
    last_src = _wait_for_new_image(notebook, animation, second_src, "the animation's frame slider")
    assert last_src not in (first_src, second_src)
    notebook.shot("animation_last_frame", animation)

    # The traversal panel from helpers.widgets.traversal_panel: a Play widget and a frame slider.
    panel, frame = _slider_panel(notebook, "frame")
    play = panel.locator(".widget-play")
    assert play.count() >= 1 and play.first.is_visible(), "04: the traversal panel's Play control did not render"
    output = panel.locator(".widget-output")
    before_src = _image_src(notebook, output, "traversal panel")
    notebook.shot("traversal_panel_last_frame", panel)
    _move_slider(notebook, frame, "Home")
    _wait_for_new_image(notebook, output, before_src, "moving the traversal frame slider")
    notebook.shot("traversal_panel_first_frame", panel)

    notebook.shot("page")
    notebook.assert_no_error_output()
    notebook.assert_no_javascript_errors()


def _canvas_picture(canvas) -> str:
    """What the sketch pad shows, as a PNG data URL."""
    return canvas.evaluate("c => c.toDataURL()")


def test_06_canvas_sketch_predictions_and_clean_up(open_notebook):
    notebook = open_notebook("06_robust_models_draw")
    page = notebook.page
    canvas = notebook.cells().locator("canvas.sketchpad-canvas").first
    try:
        canvas.wait_for(state="visible", timeout=WIDGET_S * 1000)
    except PlaywrightError as error:
        notebook.shot("no_canvas")
        raise AssertionError("06: the sketch pad (an anywidget canvas) did not render") from error
    canvas.scroll_into_view_if_needed()
    blank = _canvas_picture(canvas)
    box = canvas.bounding_box()
    # A 7 with the mouse: a bar across the top, then a stroke down to the bottom left.
    for stroke in ([(0.3, 0.25), (0.7, 0.25)], [(0.7, 0.25), (0.45, 0.8)]):
        (x0, y0), (x1, y1) = stroke
        page.mouse.move(box["x"] + x0 * box["width"], box["y"] + y0 * box["height"])
        page.mouse.down()
        page.mouse.move(box["x"] + x1 * box["width"], box["y"] + y1 * box["height"], steps=15)
        page.mouse.up()
    sketched = _canvas_picture(canvas)
    assert sketched != blank, "06: drawing with the mouse left the sketch pad blank"
    readings = notebook.cells().locator(".sketch-readings").first
    try:
        page.wait_for_function("el => el.querySelectorAll('.sketch-prediction').length === 2",
                               arg=readings.element_handle(timeout=WIDGET_S * 1000), timeout=WIDGET_S * 1000)
    except PlaywrightError as error:
        notebook.shot("no_predictions")
        raise AssertionError("06: the two models' readings of the sketch did not appear") from error
    text = readings.inner_text()
    assert "robust" in text and "natural" in text, f"06: readings shown: {text!r}"
    notebook.shot("canvas_sketched", canvas)

    button = notebook.cells().locator("button", has_text="clean up").first
    button.click()
    try:
        page.wait_for_function("([c, before]) => c.toDataURL() !== before",
                               arg=[canvas.element_handle(), sketched], timeout=WIDGET_S * 1000, polling=200)
    except PlaywrightError as error:
        notebook.shot("clean_up_unchanged")
        raise AssertionError("06: pressing the clean-up button did not change the picture") from error
    notebook.wait_for_kernel_idle(WIDGET_S, "finish the clean-up")
    notebook.shot("canvas_cleaned", canvas)

    notebook.shot("page")
    notebook.assert_no_error_output()
    notebook.assert_no_javascript_errors()
