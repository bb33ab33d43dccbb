'use strict';
// Debian's Chromium for the console tests (headless, through playwright-core): where it is,
// whether a test file runs without it (skipped loudly, but never in CI), where screenshots go,
// and one launch with the suite's flags.

const fs = require('node:fs');
const path = require('node:path');

const CHROMIUM = process.env.OPENKMS_E2E_CHROMIUM || '/usr/bin/chromium';
// target/console-screenshots/, or docs/console/ (the committed ones the README shows) with
// OPENKMS_CONSOLE_SCREENSHOTS=docs, so a test run leaves the checkout unchanged
const SHOTS = process.env.OPENKMS_CONSOLE_SCREENSHOTS === 'docs'
  ? path.resolve(__dirname, '..', '..', '..', 'docs', 'console')
  : path.resolve(__dirname, '..', '..', '..', 'target', 'console-screenshots');
const IN_CI = ['1', 'true', 'yes'].includes(String(process.env.CI || '').toLowerCase());
const STEP_TIMEOUT_MS = 30_000;
/** A browser test's `skip`: Chromium is missing outside CI (in CI its `before` fails instead). */
const NO_CHROMIUM = !fs.existsSync(CHROMIUM) && !IN_CI;

/** Whether Chromium is there; without it says loudly that `what` is skipped, or throws in CI. */
function haveChromium(what) {
  if (fs.existsSync(CHROMIUM)) return true;
  if (IN_CI) throw new Error(`CI is set but ${CHROMIUM} is missing (apt-get install chromium)`);
  console.error(`!!!!!!!! SKIPPED: ${what} -- ${CHROMIUM} not found !!!!!!!!`);
  return false;
}

/** Headless Chromium with the suite's flags (launch() gives it a fresh, empty profile); the screenshot directory made. */
async function launchChromium() {
  const { chromium } = require('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  fs.mkdirSync(SHOTS, { recursive: true });
  return browser;
}

module.exports = { CHROMIUM, NO_CHROMIUM, SHOTS, STEP_TIMEOUT_MS, haveChromium, launchChromium };
