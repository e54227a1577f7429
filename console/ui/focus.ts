/** Moving focus where a keyboard user needs it after an action. */

const CONTROL = 'input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled])';

/**
 * After a failed save: focus the first control the API named, so its problem is read out
 * with it. A field is "named" when it shows problems (`.problems` directly inside its
 * `.field` or `<fieldset>`); in a radio group the checked radio takes focus. Runs after
 * the next render; nothing happens when no field shows a problem (the alert beside Save
 * is announced instead).
 */
export function focusFirstProblem(container: HTMLElement | null | undefined): void {
  requestAnimationFrame(() => {
    const problem = container?.querySelector<HTMLElement>('.field > .problems, fieldset > .problems');
    const field = problem?.parentElement;
    if (!field) return;
    const target =
      field.querySelector<HTMLElement>('[aria-invalid="true"]') ??
      field.querySelector<HTMLElement>('input[type="radio"]:checked:not([disabled])') ??
      field.querySelector<HTMLElement>(CONTROL);
    target?.focus();
  });
}

/** Focus an element once it is rendered (after a row is added or a panel opened). */
export function focusSoon(find: () => HTMLElement | null | undefined): void {
  requestAnimationFrame(() => find()?.focus());
}
