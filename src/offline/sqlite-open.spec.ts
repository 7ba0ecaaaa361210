import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteOfflineMessageDriver } from './sqlite-offline-message.driver.js';

/** What an operator reads when SQLITE_PATH cannot be opened: the variable, the path, and why. */
describe('SqliteOfflineMessageDriver.open on a bad SQLITE_PATH', () => {
  const dir = mkdtempSync(join(tmpdir(), 'im-gateway-open-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('creates missing directories', async () => {
    const driver = new SqliteOfflineMessageDriver(join(dir, 'a/b/inbox.db'));
    await driver.open();
    await driver.close();
    expect(existsSync(join(dir, 'a/b/inbox.db'))).toBe(true);
  });

  it('says when the path is a directory', async () => {
    await expect(new SqliteOfflineMessageDriver(dir).open()).rejects.toThrow(
      `Cannot open SQLITE_PATH="${dir}" (${dir}): it is a directory, not a file`,
    );
  });

  it('says when a part of the directory path is a file', async () => {
    writeFileSync(join(dir, 'file'), '');
    const path = join(dir, 'file/inbox.db');
    await expect(new SqliteOfflineMessageDriver(path).open()).rejects.toThrow(
      `Cannot open SQLITE_PATH="${path}" (${path}): a part of its directory path is a file`,
    );
  });

  it('says when the file is not a database', async () => {
    const path = join(dir, 'notes.txt');
    writeFileSync(path, 'not a database, but long enough to have a header page of its own. '.repeat(20));
    await expect(new SqliteOfflineMessageDriver(path).open()).rejects.toThrow(
      `Cannot open SQLITE_PATH="${path}" (${path}): the file is not a SQLite database`,
    );
  });

  it.runIf(existsSync('/proc/self'))('fails, instead of hanging, where no directory can be made (/proc)', async () => {
    await expect(new SqliteOfflineMessageDriver('/proc/im-gateway/inbox.db').open()).rejects.toThrow(
      /^Cannot open SQLITE_PATH="\/proc\/im-gateway\/inbox.db"/,
    );
  });
});
