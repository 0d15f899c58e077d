// Issue 18, medium 1 (found while grepping for user text as object keys): in express-session
// compat mode, session data holding an own `__proto__` key became the prototype of the data the
// shim saved, so `data.userId` read a user id out of it and the save logged the browser in as
// that user.
import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createSessionManager } from '../../src/core/manager.js';
import type { CompatSession } from '../../src/http/adapters/express-compat.js';
import { sessionkit } from '../../src/http/adapters/express.js';
import { memoryStore } from '../../src/stores/memory.js';

describe('express-session compat mode and a stored __proto__ key', () => {
  it('keeps the key as data and never takes a user id from it', async () => {
    const sessions = createSessionManager({ store: memoryStore() });
    const app = express();
    app.use(sessionkit({ sessions, insecureCookies: true, expressSessionCompat: true, warn: () => {} }));
    // A GET: no CSRF token needed, and the shim saves a modified bag on any method.
    app.get('/views', (req, res) => {
      const bag = req.session as unknown as CompatSession;
      bag.views = Number(bag.views ?? 0) + 1;
      res.json({ views: bag.views });
    });
    // What JSON.parse makes of a body an app stored as it came: `__proto__` is an own key.
    const data = JSON.parse('{"user":"mallory","prefs":{"theme":"dark"},"__proto__":{"userId":"admin"}}') as Record<string, unknown>;
    const { token, session } = await sessions.create({ userId: 'mallory', data });

    const res = await request(app).get('/views').set('cookie', `sessionkit=${token}`);
    expect(res.status).toBe(200);
    expect(await sessions.listForUser('admin')).toEqual([]);
    const after = await sessions.validate(token);
    expect(after.id).toBe(session.id);
    expect(after.userId).toBe('mallory');
    expect(after.data.views).toBe(1);
    expect(Object.hasOwn(after.data, '__proto__')).toBe(true);
  });
});
