import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const haveSystemdAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;
if (!haveSystemdAnalyze && process.env.CI) throw new Error('CI: no systemd-analyze on the PATH');

describe.skipIf(!haveSystemdAnalyze)('the systemd unit as shipped (deploy/stockroom@.service)', () => {
  it('passes systemd-analyze verify as an instance, with node and stockroom where this machine has them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stockroom-unit-'));
    try {
      const unit = readFileSync('deploy/stockroom@.service', 'utf8')
        .replace('/usr/bin/node ', `${process.execPath} `)
        .replace('/opt/stockroom/', `${process.cwd()}/`);
      const path = join(dir, 'stockroom@8081.service');
      writeFileSync(path, unit);
      const verified = spawnSync('systemd-analyze', ['verify', path], { encoding: 'utf8' });
      expect({ status: verified.status, said: verified.stderr.trim() }).toEqual({ status: 0, said: '' });
      // and a mistake in it is found, so the check above is one
      writeFileSync(path, unit.replace('ExecStart=', 'ExecStartt='));
      expect(spawnSync('systemd-analyze', ['verify', path], { encoding: 'utf8' }).stderr).toMatch(/Unknown key/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('starts what ExecStart names: a command line stockroom serve takes', () => {
    const execStart = /^ExecStart=(.*)$/m.exec(readFileSync('deploy/stockroom@.service', 'utf8'))?.[1] ?? '';
    const argv = execStart.split(' ');
    expect(argv.slice(0, 3)).toEqual(['/usr/bin/node', '--max-semi-space-size=32', '/opt/stockroom/bin/stockroom.js']);
    // the instance's port; a setting refused on purpose stops serve once it has taken the command line (an option it
    // did not know would be refused first, with another message)
    const args = argv.slice(3).map((arg) => arg.replace('%i', '8081'));
    const run = spawnSync(process.execPath, ['--max-semi-space-size=32', 'bin/stockroom.js', ...args], {
      encoding: 'utf8',
      env: { ...process.env, STOCKROOM_SWEEP_MS: 'soon' },
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/\/env\/STOCKROOM_SWEEP_MS: must be a whole number/);
    expect(run.stderr).not.toMatch(/unknown option|too many arguments/);
  });
});
