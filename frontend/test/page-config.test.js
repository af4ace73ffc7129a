// The page config the server compiles for the loader (widgets/config/launcher_paint.py,
// widgets/config/triggers.py), held to what the widget itself does: the same cases are checked
// in widgets/delivery/tests/test_page_config.py.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { isLeftPosition, launcherIconPath, themeVariables } from '../src/core/theme.js';

const cases = (name) => JSON.parse(readFileSync(new URL(`../../widgets/tests/${name}`, import.meta.url), 'utf8'));

test("the server paints the launcher as the core's theme rules would", () => {
  for (const { config, launcher } of cases('launcher_cases.json')) {
    const painted = { vars: themeVariables(config.theme), left: isLeftPosition(config), icon: launcherIconPath(config.theme) };
    assert.deepEqual(painted, launcher, JSON.stringify(config));
  }
});

test("the server's URL patterns match in JavaScript as its glob rules say", () => {
  for (const { triggers, plan, pages } of cases('trigger_cases.json')) {
    for (const { url, allowed } of pages) {
      // What src/loader.js runs: no plan, no trigger; no pattern, every page.
      const matches = !!plan && RegExp(plan.page, 'i').test(url);
      assert.equal(matches, allowed, `${JSON.stringify(triggers)} on ${url}`);
    }
  }
});
