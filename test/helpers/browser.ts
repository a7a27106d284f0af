// Headless Chromium for the browser tests, driven by playwright-core: Debian's chromium package
// (playwright downloads no browser here). A clean machine (CI runs only `npm ci` and `npm
// test`) gets it installed once, as root on Debian; anywhere else a missing browser fails the
// test with what to install, never a silent skip.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];
const INSTALL_TIMEOUT_MS = 15 * 60_000;

function found(): string | undefined {
  const fromEnv = process.env.KUBEDASK_CHROMIUM;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`KUBEDASK_CHROMIUM=${fromEnv} does not exist`);
    return fromEnv;
  }
  return CANDIDATES.find((path) => existsSync(path));
}

/** The path of a Chromium to drive; installs Debian's package when root on Debian and none is there. */
export function chromiumPath(): string {
  const path = found();
  if (path) return path;
  const root = process.getuid?.() === 0;
  if (!root || !existsSync('/etc/debian_version')) {
    throw new Error(`the browser tests need Chromium and none is at ${CANDIDATES.join(' or ')}: install it (on Debian: apt-get install chromium) or set KUBEDASK_CHROMIUM to its path`);
  }
  console.error('browser tests: Chromium is missing; installing Debian\'s chromium package once (apt-get update && apt-get install -y chromium)');
  // flock: test files run in parallel, and only one of them may run apt at a time.
  const script = `test -x ${CANDIDATES[0]} || { apt-get update -q && apt-get install -y -q -o DPkg::Lock::Timeout=600 chromium; }`;
  try {
    execFileSync('flock', ['/tmp/kubedask-chromium-install.lock', 'sh', '-c', script], {
      stdio: ['ignore', 'ignore', 'inherit'], timeout: INSTALL_TIMEOUT_MS, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  } catch (err) {
    throw new Error(`the browser tests need Chromium, and installing Debian's chromium package failed: ${(err as Error).message}`, { cause: err });
  }
  const installed = found();
  if (!installed) throw new Error(`apt-get installed chromium, yet no browser is at ${CANDIDATES.join(' or ')}`);
  return installed;
}

/** A headless Chromium; close it in an after hook. */
export function launchBrowser(): Promise<Browser> {
  // --no-sandbox: CI and these machines run as root, where Chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
}

/** How long a before hook that may install the browser gets. */
export const BROWSER_HOOK = { timeout: INSTALL_TIMEOUT_MS + 60_000 };
