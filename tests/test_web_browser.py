"""The web page in a real browser: headless Chromium (Debian's ``chromium`` and
``chromium-driver``, which ``.ci/run`` installs) driven by selenium.  Type, submit, read the
rendered result; the explanation; the code; the error path and recovery; the URL round trip and
the back button; the phone layout.  The main-path test saves the README's screenshot,
docs/screenshot.png, and prints the time from Enter to the rendered answer."""

import pathlib
import shutil
import threading
import time
import urllib.parse

import pytest

from tensorcalc.frontends.web.server import DeriveServer

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
if not (CHROMIUM and DRIVER):
    pytest.skip("the browser tests need Chromium and its driver (Debian: apt-get install chromium "
                "chromium-driver; .ci/run installs them)", allow_module_level=True)
webdriver = pytest.importorskip("selenium.webdriver", reason="the browser tests need selenium "
                                "(pip install -e '.[test]')")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

SCREENSHOT = pathlib.Path(__file__).resolve().parents[1] / "docs" / "screenshot.png"
CS229_LOSS = ("-np.sum(y * np.log(np.sigmoid(W2 @ np.sigmoid(W1 @ x + b1) + b2))"
              " + (1 - y) * np.log(1 - np.sigmoid(W2 @ np.sigmoid(W1 @ x + b1) + b2)))")


@pytest.fixture(scope="module")
def server():
    server = DeriveServer(("127.0.0.1", 0), time_limit=30, log=None)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--window-size=1200,900", "--force-device-scale-factor=1"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(DRIVER))
    yield driver
    driver.quit()


def by_name(driver, name, tag="*"):
    """The element whose accessible name is ``name`` (as a screen reader finds it)."""
    for candidate in driver.find_elements(By.CSS_SELECTOR, tag):
        if candidate.accessible_name == name:
            return candidate
    raise AssertionError(f"no {tag} named {name!r}")


def region(driver, name):
    return driver.find_element(By.CSS_SELECTOR, f'section[aria-label="{name}"]')


def named_region(driver, name):
    """The region as a screen reader names it (the accessibility tree follows the DOM shortly)."""
    WebDriverWait(driver, 5, poll_frequency=0.05).until(lambda d: region(d, name).accessible_name == name)
    return region(driver, name)


def fill(driver, label, text):
    field = by_name(driver, label, "input")
    field.clear()
    field.send_keys(text)
    return field


def wait_for_result(driver, text, seconds=30):
    WebDriverWait(driver, seconds, poll_frequency=0.02).until(
        lambda d: text in region(d, "Result").text and not d.find_elements(By.CSS_SELECTOR, "#result.working"))
    return named_region(driver, "Result")


def submit(driver, expression, wrt, expect, types="", button=False):
    fill(driver, "Differentiate with respect to", wrt)
    fill(driver, "Types and shapes", types)
    field = fill(driver, "Expression", expression)
    started = time.perf_counter()
    if button:
        by_name(driver, "Differentiate", "button").click()
    else:
        field.send_keys(Keys.ENTER)
    result = wait_for_result(driver, expect)
    return result, time.perf_counter() - started


def test_main_path_explanation_code_and_the_screenshot(server, browser):
    browser.get(server.url)
    result, seconds = submit(browser, "x'*A*x", "x", "(A + Aᵀ) x")
    assert result.find_elements(By.CSS_SELECTOR, ".katex")  # rendered by KaTeX
    assert result.find_element(By.CSS_SELECTOR, ".matrix-form").text == "(A + Aᵀ) x"
    assert "(A_ij + A_ji) x_j" in result.text and "(n,)" in result.text
    assert "✓ relative error" in result.text
    latex = result.find_element(By.CSS_SELECTOR, ".latex").text
    assert latex == "\\left(A + A^{\\top}\\right) x"
    explanation = named_region(browser, "Explanation")
    assert "b_i = A_ji x_j" in explanation.text and "b + Ax" in explanation.text
    code = named_region(browser, "Code")
    assert "def f_and_grad(*, x, A):" in code.text
    assert by_name(browser, "Copy code", "button").is_displayed()
    elapsed = int(result.get_attribute("data-elapsed-ms"))
    print(f"\nx'*A*x: Enter to rendered answer {seconds * 1000:.0f} ms (page: {elapsed} ms)")
    # The screenshot: the form, the result and the explanation (the code below is cut off).
    browser.execute_script("document.activeElement.blur();"
                           "document.documentElement.style.overflow = 'hidden'")
    bottom, chrome = browser.execute_script(
        "return [document.getElementById('explanation').getBoundingClientRect().bottom"
        " + window.scrollY, window.outerHeight - window.innerHeight]")
    browser.set_window_size(1200, int(bottom) + 16 + chrome)
    png = browser.get_screenshot_as_png()
    browser.execute_script("document.documentElement.style.overflow = ''")
    browser.set_window_size(1200, 900)
    SCREENSHOT.parent.mkdir(exist_ok=True)
    if not SCREENSHOT.exists() or SCREENSHOT.read_bytes() != png:
        SCREENSHOT.write_bytes(png)


def test_the_button_a_jacobian_and_the_numpy_dialect(server, browser):
    browser.get(server.url)
    Select = pytest.importorskip("selenium.webdriver.support.select").Select
    Select(by_name(browser, "Compute", "select")).select_by_value("jacobian")
    result, _ = submit(browser, "W*a", "W", "δ_ij a_k", types="a=vector", button=True)
    assert "(n, n, m)" in result.text and "aᵀ ⊗ I (as ∂vec(f)/∂vec(W)ᵀ, vec column-major)" in result.text
    Select(by_name(browser, "Compute", "select")).select_by_value("grad")
    Select(by_name(browser, "Language", "select")).select_by_value("numpy")
    result, seconds = submit(browser, CS229_LOSS, "W1", "where s = σ(b1 + W1 x)",
                             types="x=d; y=; W1=h,d; b1=h; W2=1,h; b2=1")
    assert "(h, d)" in result.text and "✓ relative error" in result.text
    elapsed = int(result.get_attribute("data-elapsed-ms"))
    print(f"\nCS229 loss: Enter to rendered answer {seconds * 1000:.0f} ms (page: {elapsed} ms)")


def test_error_then_recovery(server, browser):
    browser.get(server.url)
    submit(browser, "x'*x", "x", "2x")
    fill(browser, "Expression", "x'*A*)x").send_keys(Keys.ENTER)
    alert = browser.find_element(By.CSS_SELECTOR, "[role=alert]")
    WebDriverWait(browser, 30).until(lambda d: "^" in alert.text)
    assert alert.is_displayed()
    assert alert.text.splitlines() == ["unbalanced parentheses: this ')' has no matching '(', or "
                                       "the parentheses are empty", "    x'*A*)x", "         ^"]
    field = by_name(browser, "Expression", "input")
    assert field.get_attribute("aria-invalid") == "true"
    assert browser.execute_script("return arguments[0].selectionStart", field) == 5
    result, _ = submit(browser, "x'*A*x", "x", "(A + Aᵀ) x")  # the page is still usable
    assert not alert.is_displayed() and alert.text == ""
    assert field.get_attribute("aria-invalid") == "false"


def test_url_round_trip_and_back_button(server, browser):
    browser.get(server.url)
    submit(browser, "x'*A*x", "x", "(A + Aᵀ) x")
    submit(browser, "sum(exp(A*x))", "x", "Aᵀ exp(Ax)")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(browser.current_url).query)
    assert query == {"e": ["sum(exp(A*x))"], "wrt": ["x"]}
    link = browser.current_url
    browser.back()
    wait_for_result(browser, "(A + Aᵀ) x")
    assert by_name(browser, "Expression", "input").get_attribute("value") == "x'*A*x"
    browser.forward()
    wait_for_result(browser, "Aᵀ exp(Ax)")
    browser.get("about:blank")
    browser.get(link)  # a link sent to a student
    wait_for_result(browser, "Aᵀ exp(Ax)")
    assert by_name(browser, "Expression", "input").get_attribute("value") == "sum(exp(A*x))"


def test_phone_layout(server, browser):
    browser.set_window_size(390, 844)
    try:
        browser.get(server.url + "?e=x'*A*x&wrt=x")
        wait_for_result(browser, "(A + Aᵀ) x")
        overflow = browser.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0
        button = by_name(browser, "Differentiate", "button")
        assert button.size["width"] > 300  # full width under the fields
    finally:
        browser.set_window_size(1200, 900)
