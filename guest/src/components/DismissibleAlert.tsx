// A notice the person must see (announced at once, as an alert) and may put away.

export function DismissibleAlert({ message, onDismiss }: { message: string; onDismiss: () => void }) {
  return (
    <div role="alert" className="alert-box">
      <p>{message}</p>
      <button type="button" className="min-h-11 text-sm text-sand underline" onClick={onDismiss}>
        Dismiss
      </button>
    </div>
  );
}
