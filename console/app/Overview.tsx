/**
 * `/console`: where the org stands (SSO on or off, which IdP, certificates about to
 * expire, the provisioning method) and links to each area the user may open.
 */
import { api, useFetch } from '../api/client.js';
import { Badge, Loading, LoadError, PageHeading } from '../ui/page.js';
import { NAV_ITEMS } from './nav.js';
import { Link } from './router.js';
import { pathOf } from './routes.js';
import { sessionAllows, useSession } from './session.js';

const METHOD_NAMES = { manual: 'Manual', jit: 'SSO JIT', scim: 'SCIM' } as const;

function SsoSummary({ orgId }: { orgId: string }) {
  const sso = useFetch(`sso:${orgId}`, (signal) => api.sso.get(orgId, signal));
  const provisioning = useFetch(`provisioning:${orgId}`, (signal) => api.provisioning.get(orgId, signal));
  if (sso.error) return <LoadError error={sso.error} what="SSO settings" onRetry={sso.reload} />;
  if (!sso.data) return <Loading what="SSO settings" />;
  const settings = sso.data;
  const expiring = settings.saml.certificateInfo.filter((info) => info.expiresSoon);
  const idp = settings.protocol === 'saml' ? settings.saml.idpEntityId : settings.oidc.issuer;
  return (
    <section class="card" aria-labelledby="overview-sso">
      <h2 id="overview-sso">Single sign-on</h2>
      <dl class="facts">
        <dt>Status</dt>
        <dd>{settings.enabled ? <Badge tone="ok">Enabled</Badge> : <Badge tone="neutral">Disabled</Badge>}</dd>
        <dt>Protocol</dt>
        <dd>{settings.protocol === 'saml' ? 'SAML 2.0' : 'OpenID Connect'}</dd>
        <dt>Identity provider</dt>
        <dd>{idp ? <code>{idp}</code> : 'not configured'}</dd>
        <dt>Provisioning</dt>
        <dd>
          {provisioning.data ? METHOD_NAMES[provisioning.data.method] : provisioning.error ? <code>{provisioning.error.code}</code> : '…'}
        </dd>
      </dl>
      {expiring.length > 0 ? (
        <p class="warning">
          <Badge tone="warn">Expires soon</Badge> {expiring.length === 1 ? 'A certificate' : `${expiring.length} certificates`} of your identity
          provider expire within 30 days. <Link href={pathOf({ name: 'sso' })}>Add the new certificate</Link> before then.
        </p>
      ) : null}
      {settings.saml.metadataError ? (
        <p class="warning">
          <Badge tone="warn">Metadata</Badge> The last metadata refresh failed: {settings.saml.metadataError}
        </p>
      ) : null}
    </section>
  );
}

export function Overview() {
  const session = useSession();
  const areas = NAV_ITEMS.filter((item) => item.route.name !== 'overview' && (!item.needs || sessionAllows(session, item.needs)));
  return (
    <>
      <PageHeading title="Overview">Overview</PageHeading>
      {sessionAllows(session, 'security:view') ? <SsoSummary orgId={session.orgId} /> : null}
      <section class="card" aria-labelledby="overview-areas">
        <h2 id="overview-areas">Areas</h2>
        {areas.length > 0 ? (
          <ul class="area-list">
            {areas.map((item) => (
              <li key={item.label}>
                <Link href={pathOf(item.route)}>{item.label}</Link>
              </li>
            ))}
          </ul>
        ) : (
          <p>Your roles give you no access to the console’s areas. An administrator of your organization can change that.</p>
        )}
      </section>
    </>
  );
}
