/**
 * `/console/provisioning`, User Provisioning: the method (Manual / SSO JIT / SCIM),
 * where roles come from, the "Role Name Attribute", the defaults, attribute names, and
 * the role mapping rows. One Save writes what changed: the role mappings, then the
 * provisioning settings, each with its own `If-Match`. `409 LAST_ADMIN_MAPPING` is
 * explained and can be overridden ("Save anyway", after a confirmation).
 */
import type { TargetedSubmitEvent } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, toApiError, useFetch, type ApiError } from '../api/client.js';
import { placeProblems } from '../api/field-errors.js';
import type { Group, ProvisioningSettings, Role, RoleMapping } from '../api/types.js';
import { useCan, useSession } from '../app/session.js';
import { RadioGroup, SelectField, TextAreaField, TextField } from '../ui/fields.js';
import { focusFirstProblem } from '../ui/focus.js';
import { ConflictNotice, Loading, LoadError, PageHeading, ReadOnlyNotice } from '../ui/page.js';
import { FormStatus } from '../ui/Problems.js';
import { MappingEditor } from './MappingEditor.js';
import { PreviewBox } from './PreviewBox.js';
import {
  draftFromSettings,
  mappingsBody,
  mappingsChanged,
  provisioningBody,
  provisioningChanged,
  rowFields,
  rowsFromMappings,
  type MappingRow,
  type ProvisioningDraft,
} from './provisioning-draft.js';
import { RoleAttributeSelect } from './RoleAttributeSelect.js';

const PROVISIONING_FIELDS = [
  'method',
  'jit',
  'jit.roleSource',
  'jit.roleAttribute',
  'jit.onNoRoleMatch',
  'jit.attributes.email',
  'jit.attributes.firstName',
  'jit.attributes.lastName',
  'jit.defaultGroupId',
  'jit.defaultRoleId',
];

const DEFAULT_EMAIL_ATTRIBUTES = 'emailAddress\nname\nEmail\nhttp://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress\nhttp://schemas.xmlsoap.org/ws/2005/05/identity/claims/name';

interface Loaded {
  provisioning: ProvisioningSettings;
  provisioningEtag: string | null;
  mappings: RoleMapping[];
  mappingsEtag: string | null;
}

function LastAdminPanel({ error, onForce, busy }: { error: ApiError; onForce: () => void; busy: boolean }) {
  const confirmAndForce = () => {
    const sure = window.confirm(
      'Save these role mappings although none of them gives a role that can edit both security settings and users?\n\n' +
        'Nobody who signs in through SSO will be able to administer the organization, you included, from your next sign-in.',
    );
    if (sure) onForce();
  };
  return (
    <div class="warning-panel" role="alert">
      <p class="problem">
        <code class="problem-code">{error.code}</code> <span class="problem-message">{error.message}</span>
      </p>
      <p>
        Roles come from your identity provider, so every sign-in replaces a user’s roles with what these mappings give. Without a mapping to
        a role that has both “Edit security settings” and “Edit users”, nobody signing in through SSO could change these settings or manage
        users again; only a one-time link from <code>sso-jit login-link</code> would get an administrator in.
      </p>
      <button type="button" class="button danger" onClick={confirmAndForce} disabled={busy}>
        Save anyway
      </button>
    </div>
  );
}

function ProvisioningForm({ orgId, loaded, roles, groups, onSaved, onReload }: { orgId: string; loaded: Loaded; roles: readonly Role[]; groups: readonly Group[]; onSaved: (patch: Partial<Loaded>) => void; onReload: () => void }) {
  const can = useCan();
  const canEditProvisioning = can('security:edit', 'users:edit');
  const canEditMappings = can('security:edit');
  const attributeNames = useFetch(`attribute-names:${orgId}`, (signal) => api.attributeNames(orgId, signal));

  const [draft, setDraft] = useState<ProvisioningDraft>(() => draftFromSettings(loaded.provisioning));
  const [rows, setRows] = useState<MappingRow[]>(() => rowsFromMappings(loaded.mappings));
  const [provisioningError, setProvisioningError] = useState<ApiError | null>(null);
  const [mappingsError, setMappingsError] = useState<ApiError | null>(null);
  const [lastAdmin, setLastAdmin] = useState<ApiError | null>(null);
  const [conflict, setConflict] = useState<ApiError | null>(null);
  const [saving, setSaving] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const formRef = useRef<HTMLFormElement>(null);

  useEffect(() => setDraft(draftFromSettings(loaded.provisioning)), [loaded.provisioning]);
  useEffect(() => setRows(rowsFromMappings(loaded.mappings)), [loaded.mappings]);

  const provisioningPlaced = placeProblems(provisioningError, PROVISIONING_FIELDS, { JIT_REQUIRES_SSO: 'method' });
  const mappingsPlaced = placeProblems(mappingsError, ['items', ...rows.flatMap((_, index) => rowFields(index))]);
  const problems = { ...provisioningPlaced.byField, ...mappingsPlaced.byField };

  const change = (patch: Partial<ProvisioningDraft>) => {
    setDraft((current) => ({ ...current, ...patch }));
    setMessage(null);
  };

  /** Writes what changed. Returns early (leaving the rest unsaved) at the first refusal. */
  const save = async (force: boolean) => {
    setSaving(true);
    setProvisioningError(null);
    setMappingsError(null);
    setLastAdmin(null);
    setMessage(null);
    const saved: string[] = [];
    const fail = (caught: unknown, setError: (error: ApiError) => void) => {
      const error = toApiError(caught);
      if (error.code === 'PRECONDITION_FAILED') setConflict(error);
      else if (error.code === 'LAST_ADMIN_MAPPING') setLastAdmin(error);
      else {
        setError(error);
        focusFirstProblem(formRef.current);
      }
      if (saved.length > 0) setMessage(`Saved: ${saved.join('')}. The rest was not saved.`);
    };
    try {
      if (canEditMappings && mappingsChanged(loaded.mappings, rows)) {
        try {
          const answer = await api.roleMappings.put(orgId, mappingsBody(rows), loaded.mappingsEtag, force);
          onSaved({ mappings: answer.data.items, mappingsEtag: answer.etag });
          saved.push('the role mappings');
        } catch (caught) {
          fail(caught, setMappingsError);
          return;
        }
      }
      if (canEditProvisioning && provisioningChanged(loaded.provisioning, draft)) {
        try {
          const answer = await api.provisioning.put(orgId, provisioningBody(loaded.provisioning, draft), loaded.provisioningEtag);
          onSaved({ provisioning: answer.data, provisioningEtag: answer.etag });
          saved.push(saved.length > 0 ? ' and the provisioning settings' : 'the provisioning settings');
        } catch (caught) {
          fail(caught, setProvisioningError);
          return;
        }
      }
      setMessage(saved.length > 0 ? 'Saved. Sign-ins use these settings from now on.' : 'Nothing to save: nothing was changed.');
    } finally {
      setSaving(false);
    }
  };

  const onSubmit = (event: TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    void save(false);
  };

  const roleOptions = roles.map((role) => ({ value: role.id, label: role.name }));
  const groupOptions = groups.map((group) => ({ value: group.id, label: group.name }));
  const withUnknown = (options: { value: string; label: string }[], id: string) =>
    id && !options.some((option) => option.value === id) ? [...options, { value: id, label: id }] : options;
  const readOnly = !canEditProvisioning;

  return (
    <>
      {!canEditProvisioning ? (
        <ReadOnlyNotice needs={canEditMappings ? ['users:edit'] : ['security:edit', 'users:edit']} />
      ) : null}
      {conflict ? (
        <ConflictNotice
          error={conflict}
          onReload={() => {
            setConflict(null);
            setProvisioningError(null);
            setMappingsError(null);
            onReload();
          }}
        />
      ) : null}
      <form ref={formRef} onSubmit={onSubmit} noValidate class="settings-form">
        <section class="card" aria-labelledby="prov-method">
          <h2 id="prov-method">Provisioning method</h2>
          <RadioGroup
            label="How users get here"
            name="method"
            value={draft.method}
            onValue={(method) => change({ method: method === 'jit' ? 'jit' : method === 'scim' ? 'scim' : 'manual' })}
            disabled={readOnly}
            options={[
              { value: 'manual', label: 'Manual', hint: 'Administrators add users here; only those users can sign in.' },
              { value: 'jit', label: 'SSO JIT', hint: 'A user is created or updated at every SSO sign-in (needs SSO enabled).' },
              { value: 'scim', label: 'SCIM', hint: 'Your identity provider pushes users and groups.' },
            ]}
            hint="One method at a time. Switching away from SSO JIT keeps its settings below."
            problems={problems.method}
          />
        </section>

        <section class="card" aria-labelledby="prov-jit">
          <h2 id="prov-jit">Just-in-time provisioning</h2>
          {draft.method !== 'jit' ? <p class="hint">These settings apply while the method is SSO JIT; they are kept meanwhile.</p> : null}
          <RadioGroup
            label="Where roles come from"
            name="roleSource"
            value={draft.roleSource}
            onValue={(roleSource) => change({ roleSource: roleSource === 'idp' ? 'idp' : 'app' })}
            disabled={readOnly}
            options={[
              { value: 'idp', label: 'The identity provider', hint: 'Every sign-in sets the user’s roles from the Role Name Attribute and the mappings below.' },
              { value: 'app', label: 'Managed here', hint: 'New users get the default role; afterwards roles are changed here only.' },
            ]}
            problems={problems['jit.roleSource']}
          />
          {draft.roleSource === 'idp' ? (
            <>
              <RoleAttributeSelect
                value={draft.roleAttribute}
                onValue={(roleAttribute) => change({ roleAttribute })}
                names={attributeNames.data?.items}
                namesError={attributeNames.error}
                readOnly={readOnly}
                problems={problems['jit.roleAttribute']}
              />
              <RadioGroup
                label="When no role value matches"
                name="onNoRoleMatch"
                value={draft.onNoRoleMatch}
                onValue={(onNoRoleMatch) => change({ onNoRoleMatch: onNoRoleMatch === 'default' ? 'default' : 'deny' })}
                disabled={readOnly}
                options={[
                  { value: 'deny', label: 'Deny the sign-in', hint: 'ROLE_NOT_MAPPED, or ROLE_ATTRIBUTE_MISSING when the attribute is absent.' },
                  { value: 'default', label: 'Give the default role in the default group' },
                ]}
                problems={problems['jit.onNoRoleMatch']}
              />
            </>
          ) : null}
          <div class="two-columns">
            <SelectField
              label="Default Account Group"
              value={draft.defaultGroupId}
              options={withUnknown(groupOptions, draft.defaultGroupId)}
              onValue={(defaultGroupId) => change({ defaultGroupId })}
              disabled={readOnly}
              problems={problems['jit.defaultGroupId']}
            />
            <SelectField
              label="Default role"
              value={draft.defaultRoleId}
              options={withUnknown(roleOptions, draft.defaultRoleId)}
              onValue={(defaultRoleId) => change({ defaultRoleId })}
              disabled={readOnly}
              hint={draft.roleSource === 'idp' ? 'Given when no value matches and the choice above says so.' : 'Given to every new user.'}
              problems={problems['jit.defaultRoleId']}
            />
          </div>
          <h3>Attribute names</h3>
          <TextAreaField
            label="Email attributes"
            value={draft.emailAttributes}
            onValue={(emailAttributes) => change({ emailAttributes })}
            readOnly={readOnly}
            rows={3}
            monospace
            placeholder={DEFAULT_EMAIL_ATTRIBUTES}
            hint="One per line, tried in this order when the NameID is not an email address. Empty: the defaults shown."
            problems={problems['jit.attributes.email']}
          />
          <div class="two-columns">
            <TextField
              label="First name attribute"
              value={draft.firstNameAttribute}
              onValue={(firstNameAttribute) => change({ firstNameAttribute })}
              readOnly={readOnly}
              inputClass="mono"
              placeholder="firstName (OIDC: given_name)"
              problems={problems['jit.attributes.firstName']}
            />
            <TextField
              label="Last name attribute"
              value={draft.lastNameAttribute}
              onValue={(lastNameAttribute) => change({ lastNameAttribute })}
              readOnly={readOnly}
              inputClass="mono"
              placeholder="lastName (OIDC: family_name)"
              problems={problems['jit.attributes.lastName']}
            />
          </div>
        </section>

        <section class="card" aria-labelledby="prov-mappings">
          <h2 id="prov-mappings">Role mappings</h2>
          <p class="hint">
            A sign-in whose Role Name Attribute carries a mapping’s IdP value (or, without one, the role’s name) gets that role in each of the
            mapping’s account groups. Matching is exact: case and spaces count.
            {draft.roleSource === 'app' ? ' Roles are managed here at the moment, so the mappings are not used.' : ''}
          </p>
          <MappingEditor rows={rows} onRows={(next) => { setRows(next); setMessage(null); }} roles={roles} groups={groups} problems={problems} readOnly={!canEditMappings} />
        </section>

        {canEditMappings || canEditProvisioning ? (
          <div class="form-actions">
            <button type="submit" class="button primary" disabled={saving || conflict !== null}>
              {saving ? 'Saving…' : 'Save'}
            </button>
            {lastAdmin ? <LastAdminPanel error={lastAdmin} busy={saving} onForce={() => void save(true)} /> : null}
            <FormStatus problems={[...mappingsPlaced.general, ...provisioningPlaced.general]} message={message} />
          </div>
        ) : null}
      </form>

      <section class="card" aria-labelledby="prov-preview">
        <h2 id="prov-preview">Preview</h2>
        <p class="hint">Try role values against the saved mappings: see what a sign-in would get, or why it would fail.</p>
        <PreviewBox orgId={orgId} roles={roles} groups={groups} />
      </section>
    </>
  );
}

export function ProvisioningPage() {
  const { orgId } = useSession();
  const provisioning = useFetch(`provisioning:${orgId}`, (signal) => api.provisioning.get(orgId, signal));
  const mappings = useFetch(`role-mappings:${orgId}`, (signal) => api.roleMappings.get(orgId, signal));
  const roles = useFetch(`roles:${orgId}`, (signal) => api.roles.list(orgId, signal));
  const groups = useFetch(`groups:${orgId}`, (signal) => api.groups.list(orgId, signal));
  const reload = () => {
    provisioning.reload();
    mappings.reload();
  };
  const failed = provisioning.error ?? mappings.error;
  const ready = provisioning.data && mappings.data;
  return (
    <>
      <PageHeading title="User Provisioning">User Provisioning</PageHeading>
      {failed && !ready ? <LoadError error={failed} what="provisioning settings" onRetry={reload} /> : null}
      {roles.error ? <p class="hint">The roles could not be read ({roles.error.code}): roles are shown by id.</p> : null}
      {groups.error ? <p class="hint">The account groups could not be read ({groups.error.code}): groups are shown by id.</p> : null}
      {ready ? (
        <ProvisioningForm
          orgId={orgId}
          loaded={{ provisioning: provisioning.data!, provisioningEtag: provisioning.etag, mappings: mappings.data!.items, mappingsEtag: mappings.etag }}
          roles={roles.data?.items ?? []}
          groups={groups.data?.items ?? []}
          onSaved={(patch) => {
            if (patch.mappings) mappings.setData({ items: patch.mappings }, patch.mappingsEtag ?? null);
            if (patch.provisioning) provisioning.setData(patch.provisioning, patch.provisioningEtag ?? null);
          }}
          onReload={reload}
        />
      ) : !failed ? (
        <Loading what="provisioning settings" />
      ) : null}
    </>
  );
}
