// Opens a notebook in a running JupyterLab with Debian's headless Chromium (playwright-core, no downloaded
// browser), runs all cells with the HarmonyQL kernel, waits for every cell to finish, checks what the page shows
// (a capabilities table, a progress bar at 100 %, the photon plot, no error output) and saves a screenshot.
//
//   LAB_URL=http://127.0.0.1:8888 NOTEBOOK=icesat2_atl03_subset.ipynb SCREENSHOT=out/lab.png node jupyterlab.mjs
//
// Started by tests/browser/run.sh, which starts hq serve and JupyterLab first. Every wait is bounded.
import { chromium } from "playwright-core";

const labUrl = process.env.LAB_URL;
const notebook = process.env.NOTEBOOK ?? "icesat2_atl03_subset.ipynb";
const screenshot = process.env.SCREENSHOT ?? "lab.png";
const chromiumPath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const RUN_TIMEOUT_MS = 300_000;
const LOAD_TIMEOUT_MS = 90_000;

function fail(message) {
  console.error(`browser test failed: ${message}`);
  process.exitCode = 1;
}

const browser = await chromium.launch({
  executablePath: chromiumPath,
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
  ],
});
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1400 } });
  page.setDefaultTimeout(LOAD_TIMEOUT_MS);
  await page.goto(`${labUrl}/lab/tree/${notebook}`);

  // The app object exists (--expose-app-in-browser), the notebook is open and its kernel is idle.
  await page.waitForFunction(
    () => {
      const widget = window.jupyterapp?.shell?.currentWidget;
      return widget?.sessionContext?.session?.kernel?.status === "idle" && widget.content?.widgets?.length > 0;
    },
    null,
    { timeout: LOAD_TIMEOUT_MS, polling: 250 },
  );
  const kernelName = await page.evaluate(() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.name);
  console.log(`notebook ${notebook} open, kernel ${kernelName} idle`);

  const started = Date.now();
  // The command resolves when the last cell has been sent; the wait below covers the rest.
  await page.evaluate(() => window.jupyterapp.commands.execute("notebook:run-all-cells"));
  // Done when every code cell has an execution count and the kernel is idle again.
  await page.waitForFunction(
    () => {
      const widget = window.jupyterapp.shell.currentWidget;
      const cells = widget.content.widgets.filter((cell) => cell.model.type === "code");
      const done = cells.every((cell) => cell.model.executionCount !== null);
      return done && widget.sessionContext.session.kernel.status === "idle";
    },
    null,
    { timeout: RUN_TIMEOUT_MS, polling: 500 },
  );
  console.log(`all cells ran in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  // JupyterLab may skip painting cells off screen; render every cell before looking at the DOM.
  await page.evaluate(async () => {
    const notebookWidget = window.jupyterapp.shell.currentWidget.content;
    for (let index = 0; index < notebookWidget.widgets.length; index += 1) {
      await notebookWidget.scrollToItem(index);
    }
  });

  const seen = await page.evaluate(() => {
    const outputs = [...document.querySelectorAll(".jp-NotebookPanel .jp-OutputArea-output")];
    return {
      outputs: outputs.length,
      tables: document.querySelectorAll(".jp-NotebookPanel .jp-OutputArea-output table").length,
      progressAt100: [...document.querySelectorAll(".jp-NotebookPanel .jp-OutputArea-output progress")].filter(
        (bar) => Number(bar.getAttribute("value")) >= Number(bar.getAttribute("max") ?? 100),
      ).length,
      images: document.querySelectorAll(".jp-NotebookPanel .jp-OutputArea-output img").length,
      errors: document.querySelectorAll('.jp-NotebookPanel .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]').length,
      errorText: [...document.querySelectorAll('.jp-NotebookPanel .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
        .map((node) => node.textContent.slice(0, 300)),
    };
  });
  console.log(JSON.stringify({ outputs: seen.outputs, tables: seen.tables, progressAt100: seen.progressAt100,
    images: seen.images, errors: seen.errors }));

  if (seen.tables < 1) fail("no table in the outputs (capabilities)");
  if (seen.progressAt100 < 1) fail("no progress bar at 100 %");
  if (seen.images < 1) fail("no image in the outputs (photon plot)");
  if (seen.errors > 0) fail(`error outputs: ${seen.errorText.join(" | ")}`);

  // Two screenshots: the job (capabilities table, live progress at 100 %, job card), then the plot.
  await page.evaluate(() => {
    const bars = document.querySelectorAll(".jp-NotebookPanel .jp-OutputArea-output progress");
    bars[bars.length - 1]?.scrollIntoView({ block: "center" });
  });
  await page.locator(".jp-NotebookPanel").screenshot({ path: screenshot.replace(/\.png$/, "-job.png") });
  // The main screenshot shows the plot: scroll to the first image, then capture the notebook panel.
  await page.evaluate(() => {
    document.querySelector(".jp-NotebookPanel .jp-OutputArea-output img")?.scrollIntoView({ block: "center" });
  });
  await page.locator(".jp-NotebookPanel").screenshot({ path: screenshot });
  console.log(`screenshot: ${screenshot}`);
} catch (error) {
  fail(error.message);
} finally {
  await browser.close();
}
