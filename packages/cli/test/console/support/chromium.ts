import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

/** Debian's chromium (scripts/bootstrap.sh installs it); CALLFLOW_CHROMIUM names another binary. */
export const CHROMIUM = process.env.CALLFLOW_CHROMIUM ?? "/usr/bin/chromium";
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"];

/**
 * Chromium driven by playwright-core (never a browser it downloads). A missing binary is an error
 * naming what to install: the console's tests fail loudly, they never skip. Audio may play without a
 * click, so that a test can start the player from the page.
 */
export const launchChromium = async (): Promise<Browser> => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM}: run scripts/bootstrap.sh, or apt-get install -y --no-install-recommends chromium (or set CALLFLOW_CHROMIUM)`);
  }
  return chromium.launch({ executablePath: CHROMIUM, args: [...FLAGS, "--autoplay-policy=no-user-gesture-required"] });
};
