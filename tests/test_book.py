"""The rendered book as a reader gets it: every chapter page opened in headless Chromium.

Runs after the book build (tests/run_all.sh); asserts typeset math (no raw TeX left), every
image loaded, no dead saved widget view, no JavaScript errors, and that the page fits a 1280 px and a
390 px window (tables within their column at 1280 px), that no code or output line is cut off and
no figure is shrunk below three quarters of its width at 1280 px, and saves a full-page
screenshot per page under _build/screenshots/.
"""

import functools
import http.server
import re
import shutil
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HTML = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


def chapter_pages() -> list[str]:
    toc = (ROOT / "_toc.yml").read_text()
    return ["intro"] + re.findall(r"file:\s*(\S+)", toc)


#: every page a reader can reach: the chapters and sphinx-proof's index of statements
PAGES = chapter_pages() + ["prf-prf"]


pytestmark = pytest.mark.skipif(not (HTML / "index.html").exists(), reason="the book has not been built")


def test_the_built_book_is_of_the_current_sources():
    """The pages below must be those of the library, chapters and manifests as they are now."""
    from thesis_lib.book.pages import build_inputs_digest

    stamp = ROOT / "_build" / ".execution-inputs"
    assert stamp.exists() and stamp.read_text().strip() == build_inputs_digest(), (
        "_build/html is older than the sources (or was not built by tools/build_book.sh): run `make book`")


@pytest.fixture(scope="module")
def server():
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(HTML))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}; install Debian's chromium (apt-get install -y chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.mark.parametrize("page_name", PAGES)
def test_page_renders_completely(server, browser, page_name):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    failed: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text)
            if msg.type == "error" and not msg.text.startswith("Failed to load resource") else None)
    page.on("requestfailed", lambda req: failed.append(req.url))
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    page.goto(f"{server}/{page_name}.html", wait_until="load")
    has_math = page.evaluate("() => !!document.querySelector('.math, span.math, div.math')")
    if has_math:
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=20_000)
        page.evaluate("() => MathJax.startup.promise")
    # the explorers run in JupyterLab; a saved widget view would be drawn but dead in the book
    widget_scripts = page.evaluate(
        "() => document.querySelectorAll('script[type=\"application/vnd.jupyter.widget-view+json\"]').length")
    assert widget_scripts == 0, f"{page_name} carries {widget_scripts} saved widget views that need a kernel"
    page.wait_for_load_state("networkidle")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{page_name.replace('/', '__')}.png"), full_page=True)

    text = page.evaluate("""() => {
        const article = document.querySelector("article").cloneNode(true);
        article.querySelectorAll("pre, code, .highlight, .cell_input, .output").forEach(e => e.remove());
        return article.innerText;
    }""")  # prose only: code and its printed output may legitimately contain dollar signs
    raw_tex = re.findall(r"\$\$?[^$\n]{1,80}\$|\\(?:frac|mathbb|varphi|sum|int|begin)\b", text)
    assert not raw_tex, f"untypeset TeX on {page_name}: {raw_tex[:5]}"
    broken = page.evaluate(
        "() => [...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)")
    assert not broken, f"images that did not load on {page_name}: {broken}"
    if re.match(r"chapters/\d", page_name):
        assert page.evaluate("() => document.images.length") > 0, f"{page_name} shows no figure at all"
    assert not errors, f"JavaScript errors on {page_name}: {errors[:5]}"
    assert not failed, f"requests that failed or left the machine on {page_name}: {failed[:5]}"
    assert_fits(page, page_name, tables=True)
    if has_math:
        assert_maths_fit(page, page_name, may_scroll=False)
    assert_nothing_cut_off(page, page_name)
    assert_figures_readable(page, page_name)
    page.close()


def assert_nothing_cut_off(page, page_name: str) -> None:
    """Every code block and printed output shows its longest line whole (no horizontal scrolling)."""
    cut = page.evaluate("""() => [...document.querySelectorAll('article pre')]
        .filter(p => p.scrollWidth > p.clientWidth + 1)
        .map(p => p.innerText.split('\\n').reduce((a, l) => l.length > a.length ? l : a, '').slice(0, 90))""")
    assert not cut, f"code or output lines cut off on {page_name}: {cut[:5]}"


def assert_figures_readable(page, page_name: str) -> None:
    """Every figure is shown at no less than three quarters of its natural width: the text drawn at
    the book style's sizes (9-10 pt at 100 dpi, about 13 px) stays at least about 10 px tall."""
    shrunk = page.evaluate("""() => [...document.querySelectorAll('article img')]
        .filter(i => i.naturalWidth > 0 && i.getBoundingClientRect().width < 0.75 * i.naturalWidth)
        .map(i => `${i.src.split('/').pop().slice(0, 12)}: ${Math.round(i.getBoundingClientRect().width)} of ${i.naturalWidth}px`)""")
    assert not shrunk, f"figures shrunk below 3/4 of their width on {page_name}: {shrunk[:5]}"
    numbered = page.evaluate("""() => [...document.querySelectorAll('article figure figcaption')]
        .map(c => c.innerText.trim()).filter(t => /^Fig\\. \\d/.test(t)).map(t => t.slice(0, 40))""")
    assert not numbered, f"captions numbered by Sphinx as well as by the thesis on {page_name}: {numbered[:3]}"



def assert_maths_fit(page, page_name: str, may_scroll: bool) -> None:
    """Every display equation shows whole: none is cut by a box that hides what overflows it, none
    runs past its column; with ``may_scroll`` (a phone) one wider than its column scrolls inside
    its own box, without (1280 px) none needs to."""
    page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=20_000)
    page.evaluate("() => MathJax.startup.promise")
    found = page.evaluate("""() => {
        const column = document.querySelector('article').getBoundingClientRect().right;
        const found = [];
        for (const math of document.querySelectorAll('article mjx-container[display="true"]')) {
            if (math.offsetParent === null) continue;
            const text = (math.querySelector('mjx-assistive-mml') || math).textContent.slice(0, 50);
            for (const box of [math, math.parentElement]) {
                if (box.scrollWidth <= box.clientWidth + 1) continue;
                const scrolls = ['auto', 'scroll'].includes(getComputedStyle(box).overflowX);
                found.push(`${scrolls ? 'scrolls' : 'cut'}: ${box.scrollWidth}px in ${box.clientWidth}px: ${text}`);
            }
            if (math.parentElement.getBoundingClientRect().right > column + 1) found.push(`past the column: ${text}`);
        }
        const scrolls = e => ['auto', 'scroll'].includes(getComputedStyle(e).overflowX);
        for (const math of document.querySelectorAll('article mjx-container:not([display="true"])')) {
            if (math.offsetParent === null || math.getBoundingClientRect().right <= column + 1) continue;
            let box = math;
            while (box && box.tagName !== 'ARTICLE' && !scrolls(box)) box = box.parentElement;
            if (!box || box.tagName === 'ARTICLE') {
                found.push(`cut inline: ${(math.querySelector('mjx-assistive-mml') || math).textContent.slice(0, 50)}`);
            }
        }
        return found;
    }""")
    if may_scroll:
        found = [f for f in found if not f.startswith("scrolls")]
    assert not found, f"display equations that do not fit on {page_name}: {found[:5]}"


def assert_fits(page, page_name: str, tables: bool) -> None:
    """No part of the page reaches past the window's right edge (except inside blocks that scroll by
    themselves); with ``tables``, no table is wider than the column that holds it."""
    width = page.viewport_size["width"]
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    wide = page.evaluate("""() => [...document.querySelectorAll('article *')]
        .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('pre, .highlight, table')
                && getComputedStyle(e).position !== 'fixed' && e.offsetParent !== null
                && ![...(function* (n) { while ((n = n.parentElement)) yield n; })(e)]
                     .some(p => ['auto', 'scroll', 'hidden'].includes(getComputedStyle(p).overflowX)))
        .slice(0, 5).map(e => `${e.tagName}.${e.className}`)""")
    assert overflow <= 1 and not wide, f"{page_name} is {overflow}px wider than a {width}px window: {wide}"
    if tables:
        too_wide = page.evaluate("""() => [...document.querySelectorAll('article table')]
            .filter(t => t.scrollWidth > t.parentElement.clientWidth + 1)
            .map(t => `${t.innerText.slice(0, 60).replace(/\\s+/g, ' ')}: ${t.scrollWidth}px in ${t.parentElement.clientWidth}px`)""")
        assert not too_wide, f"tables wider than their column on {page_name}: {too_wide}"


@pytest.mark.parametrize("page_name", PAGES)
def test_page_fits_a_phone(server, browser, page_name):
    """At a phone's width (390 CSS px) a table may scroll inside its own wrapper; the page may not, and
    code and output lines wrap (``_static/book.css``) rather than run past their block."""
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(f"{server}/{page_name}.html", wait_until="load")
    page.wait_for_load_state("networkidle")
    assert_fits(page, page_name, tables=False)
    if page.evaluate("() => !!document.querySelector('.math')"):
        assert_maths_fit(page, page_name, may_scroll=True)
    assert_nothing_cut_off(page, page_name)
    page.close()


@pytest.mark.parametrize("width", [390, 1280])
def test_the_menu_button_opens_the_table_of_contents_and_its_links_lead_there(server, browser, width):
    """The menu button works at a phone's width, where the table of contents starts hidden, and on a
    desktop, where it starts shown and the button hides and shows it again."""
    page = browser.new_page(viewport={"width": width, "height": 844})
    page.goto(f"{server}/chapters/1_2_training.html", wait_until="load")
    button = page.locator(".primary-toggle:visible")
    assert button.count() == 1, f"{button.count()} visible menu buttons at {width}px"
    link = page.locator(".bd-sidebar-primary a.reference.internal", has_text="2.2 Training of autoencoders")
    if width < 960:
        assert not link.is_visible(), "the table of contents is open before the menu button is pressed"
    else:
        assert link.is_visible()
        button.click()
        page.wait_for_timeout(400)
        assert not link.is_visible(), "the menu button does not hide the table of contents"
    button.click()
    link.wait_for(state="visible", timeout=2_000)
    link.click()
    page.wait_for_url("**/chapters/2_2_training_autoencoders.html")
    assert page.locator("h1").first.inner_text().startswith("2.2")
    page.close()


def test_a_figure_scaled_down_on_a_phone_opens_at_full_size_when_tapped(server, browser):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(f"{server}/chapters/1_3_computer_vision.html", wait_until="load")
    unlinked = page.evaluate("() => [...document.querySelectorAll('article img')].filter(i => !i.closest('a')).length")
    assert unlinked == 0, f"{unlinked} figures cannot be opened at full size"
    scaled = page.locator("article img").evaluate_all(
        "images => images.findIndex(i => i.getBoundingClientRect().width < i.naturalWidth - 1)")
    assert scaled >= 0, "no figure is scaled down at 390 px"
    image = page.locator("article img").nth(scaled)
    source = image.evaluate("i => i.src")
    image.scroll_into_view_if_needed()
    image.click()
    page.wait_for_url(source)
    assert page.evaluate("() => document.images[0].naturalWidth") > 390
    page.close()


def test_the_bibliography_links_each_entry_to_its_doi_or_arxiv_page(server, browser):
    """Every entry of references.bib that names an arXiv preprint carries its address, and every DOI
    and address of the file is a link on the rendered bibliography page."""
    bib = (ROOT / "references.bib").read_text()
    entries = re.split(r"(?=^@)", bib, flags=re.M)[1:]
    unlinked = [e.split(",")[0] for e in entries if "arXiv" in e and "arxiv.org/abs/" not in e]
    assert not unlinked, f"arXiv preprints without their address: {unlinked}"
    targets = [f"https://doi.org/{d}" for d in re.findall(r"^\s*doi\s*=\s*\{([^}]+)\}", bib, re.M)]
    targets += re.findall(r"^\s*url\s*=\s*\{([^}]+)\}", bib, re.M)
    assert len(targets) >= 15
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{server}/bibliography.html", wait_until="load")
    links = {h.rstrip("/") for h in page.evaluate("() => [...document.querySelectorAll('article a[href]')].map(a => a.href)")}
    missing = [t for t in targets if t.rstrip("/") not in links]
    assert not missing, f"references without a link on the bibliography page: {missing}"
    page.close()


#: the pages whose latent explorers decode in the page, and the explorers' element ids
STATIC_EXPLORERS = {"chapters/2_3_applications": ["explorer-alg1-3d"],
                    "chapters/3_2_the_vae": ["explorer-vae-2d", "explorer-interpolation"]}


@pytest.mark.parametrize("page_name", sorted(STATIC_EXPLORERS))
def test_static_explorers_decode_like_torch_from_file_with_the_network_blocked(browser, page_name):
    """Open the page from file:// with every other request refused, drag each slider of each explorer
    and compare the image the page decoded with torch's decode of the same latent point by the
    experiment's model (the page states the md5 of the weights it carries)."""
    import torch

    from thesis_lib.book.static_explorers import dense_layers, weights_md5
    from thesis_lib.experiments.experiment import registered

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file://")
               else route.abort())
    page.goto((HTML / f"{page_name}.html").as_uri(), wait_until="load")
    for element in STATIC_EXPLORERS[page_name]:
        root = page.locator(f"#{element}")
        model, _ = registered()[root.get_attribute("data-experiment")].trained()
        last = page.evaluate(f"""() => JSON.parse(document.querySelector('#{element} script.explorer-spec')
                                  .textContent).layers.at(-1).activation""")
        output = "sigmoid" if last == "sigmoid" else "identity"
        assert root.get_attribute("data-weights-md5") == weights_md5(dense_layers(model.decoder, output))
        sliders = root.locator("input[type=range]")
        for index in range(sliders.count()):
            before = page.evaluate(f"() => window.thesisExplorers['{element}'].image")
            sliders.nth(index).scroll_into_view_if_needed()
            box = sliders.nth(index).bounding_box()
            y = box["y"] + box["height"] / 2
            page.mouse.move(box["x"] + box["width"] / 2, y)
            page.mouse.down()
            page.mouse.move(box["x"] + (0.2, 0.8, 0.35)[index % 3] * box["width"], y, steps=8)
            page.mouse.up()
            state = page.evaluate(f"() => window.thesisExplorers['{element}']")
            assert state["image"] != before, f"dragging slider {index} of {element} changed nothing"
            z = torch.tensor(state["z"], dtype=torch.float32)[None]
            with torch.no_grad():
                decoded = model.decoder(z.to(next(model.parameters()).device)).cpu()[0]
            expected = torch.sigmoid(decoded) if output == "sigmoid" else decoded
            difference = (torch.tensor(state["image"], dtype=torch.float64) - expected.double()).abs().max()
            assert difference <= 1e-4, f"{element}, slider {index}: the page and torch differ by {difference:.2e}"
    assert not errors, f"JavaScript errors on {page_name}: {errors[:5]}"
    page.close()


def test_the_on_demand_explorer_composes_like_torch_from_file_with_the_network_blocked(browser):
    """Chapter 3.3's explorer, opened from file:// with every other request refused: pick two digits,
    drag the style slider, and compare the canvas the page composed with torch's canvas of the same
    digits and code from the committed single-digit VAE."""
    import torch

    from thesis_lib.book.static_explorers import dense_layers, weights_md5
    from thesis_lib.experiments.experiment import registered
    from thesis_lib.on_demand import request_canvas

    page = browser.new_page(viewport={"width": 390, "height": 844})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file://")
               else route.abort())
    page.goto((HTML / "chapters/3_3_new_data_on_demand.html").as_uri(), wait_until="load")
    root = page.locator("#explorer-on-demand")
    model, _ = registered()[root.get_attribute("data-experiment")].trained()
    assert root.get_attribute("data-weights-md5") == weights_md5(dense_layers(model.decoder, "sigmoid"))
    for left, right, fraction in ((0, 9, 0.85), (4, 4, 0.2)):
        root.locator("select").nth(0).select_option(str(left))
        root.locator("select").nth(1).select_option(str(right))
        slider = root.locator("input[type=range]")
        slider.scroll_into_view_if_needed()
        box = slider.bounding_box()
        page.mouse.click(box["x"] + fraction * box["width"], box["y"] + box["height"] / 2)
        state = page.evaluate("() => window.thesisExplorers['explorer-on-demand']")
        assert state["digits"] == [left, right]
        expected = request_canvas(model.cpu(), left, right, torch.tensor(state["z"], dtype=torch.float32))
        difference = (torch.tensor(state["image"]).reshape(48, 48) - expected.double()).abs().max()
        assert difference <= 1e-4, f"{left} {right}: the page and torch differ by {difference:.2e}"
    assert not errors, f"JavaScript errors: {errors[:5]}"
    page.close()
