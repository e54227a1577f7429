import { describe, expect, it } from 'vitest';
import { forwardPathFor, pathOf, routeOf } from './routes.js';

describe('routeOf', () => {
  it.each([
    ['/console', { name: 'overview' }],
    ['/console/', { name: 'overview' }],
    ['/console/sso', { name: 'sso' }],
    ['/console/provisioning', { name: 'provisioning' }],
    ['/console/test', { name: 'test' }],
    ['/console/sso/tests/t-1', { name: 'ssoTest', id: 't-1' }],
    ['/console/users', { name: 'users' }],
    ['/console/users/u%201', { name: 'user', id: 'u 1' }],
    ['/console/roles', { name: 'roles' }],
    ['/console/groups', { name: 'groups' }],
    ['/console/audit', { name: 'audit' }],
    ['/console/setup-links', { name: 'setupLinks' }],
    ['/console/setup', { name: 'setup' }],
  ])('reads %s', (path, route) => {
    expect(routeOf(path)).toEqual(route);
  });

  it('answers not found for other paths', () => {
    expect(routeOf('/console/nope')).toEqual({ name: 'notFound', path: '/console/nope' });
    expect(routeOf('/consoles')).toEqual({ name: 'notFound', path: '/consoles' });
    expect(routeOf('/console/users/%E0')).toEqual({ name: 'notFound', path: '/console/users/%E0' });
  });

  it('builds the paths it reads', () => {
    expect(pathOf({ name: 'user', id: 'a/b' })).toBe('/console/users/a%2Fb');
    expect(routeOf(pathOf({ name: 'user', id: 'a/b' }))).toEqual({ name: 'user', id: 'a/b' });
    expect(pathOf({ name: 'setupLinks' })).toBe('/console/setup-links');
    expect(pathOf({ name: 'overview' })).toBe('/console');
  });
});

describe('forwardPathFor', () => {
  it('keeps a plain console path and replaces anything else', () => {
    expect(forwardPathFor('/console/users/abc')).toBe('/console/users/abc');
    expect(forwardPathFor('//evil.example')).toBe('/console');
    expect(forwardPathFor('/console/users/a%2F')).toBe('/console');
  });
});
