/** `/console/test`: start a test sign-in against the saved SSO settings. */
import { Link } from '../app/router.js';
import { pathOf } from '../app/routes.js';
import { useSession } from '../app/session.js';
import { PageHeading } from '../ui/page.js';
import { TestSignInButton } from './TestSignInButton.js';

export function TestSignInPage() {
  const { orgId } = useSession();
  return (
    <>
      <PageHeading title="Test sign-in">Test sign-in</PageHeading>
      <section class="card">
        <p>
          A test sign-in is a real sign-in at your identity provider, checked exactly as a real one would be, with the settings saved on the{' '}
          <Link href={pathOf({ name: 'sso' })}>Single Sign On</Link> and <Link href={pathOf({ name: 'provisioning' })}>User Provisioning</Link>{' '}
          pages. You come back to a page that shows everything the identity provider sent and what would have happened.
        </p>
        <TestSignInButton orgId={orgId} />
      </section>
    </>
  );
}
