import type { ComponentChildren, JSX } from 'preact';
import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useRef, useState } from 'preact/hooks';
import { ApiProblem } from './api.js';
import type { Me, Problem } from './api.js';
import { BASE, navigate } from './router.js';

/** The signed-in key, for what it may do. */
export const MeContext = createContext<Me | null>(null);

/** Whether the signed-in key has one of these scopes (admin may do everything), as the server decides. */
export function useCan(): (...scopes: string[]) => boolean {
  const me = useContext(MeContext);
  return (...scopes) => !!me && (me.scopes.includes('admin') || scopes.some((scope) => me.scopes.includes(scope)));
}

/** A link to a page of the console, followed without a reload. */
export function Link(props: { to: string; children: ComponentChildren; current?: boolean; class?: string }) {
  return (
    <a
      href={`${BASE}${props.to}`}
      class={props.class}
      aria-current={props.current ? 'page' : undefined}
      onClick={(event) => {
        if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
        event.preventDefault();
        navigate(props.to);
      }}
    >
      {props.children}
    </a>
  );
}

/**
 * Formats the API checks with a pattern, said in words: the schema's own message quotes the regular expression.
 * Also the hint a form shows beside such a field, so the user need not learn it from a refusal.
 */
export const FORMATS = {
  bin: { example: 'A-01-01', says: 'aisle-rack-shelf: capital letters and digits' },
  category: { example: 'apparel/shirts', says: 'lower-case words (letters, digits, - and _) joined by /' },
  tags: { example: 'summer', says: 'lower-case letters, digits, - and _' },
} as const;

/** A field's name from its JSON pointer, readable: `/lines/0/bin` is "Line 1, bin", `/product/category` "Category". */
export function fieldName(path: string): string {
  const parts = path.split('/').filter(Boolean);
  const name = [...parts].reverse().find((part) => !/^\d+$/.test(part)) ?? '';
  const line = parts.findIndex((part) => part === 'lines');
  const index = line >= 0 ? parts[line + 1] : undefined;
  const words = name.replace(/_/g, ' ');
  if (index !== undefined && /^\d+$/.test(index) && name !== 'lines')
    return `Line ${String(Number(index) + 1)}, ${words}`;
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A field error in words: a pattern named by what it asks for, the noise of an optional (nullable) field left out. */
function messageOf(path: string, message: string): string {
  if (!message.startsWith('must match pattern')) return message;
  const name =
    path
      .split('/')
      .filter((part) => !/^\d+$/.test(part))
      .pop() ?? '';
  if (!(name in FORMATS)) return 'is not in the expected format';
  const format = FORMATS[name as keyof typeof FORMATS];
  return `must look like ${format.example} (${format.says})`;
}

/** The field errors worth showing: each once, without what a nullable field's schema adds to a real complaint. */
export function fieldErrors(problem: Problem): { path: string; message: string }[] {
  const errors = problem.errors ?? [];
  const shown = new Map<string, { path: string; message: string }>();
  for (const error of errors) {
    const noise = error.message === 'must be null' || error.message.startsWith('must match a schema in');
    if (noise && errors.some((other) => other.path === error.path && other !== error)) continue;
    const message = messageOf(error.path, error.message);
    shown.set(`${error.path}:${message}`, { path: error.path, message });
  }
  return [...shown.values()];
}

/**
 * A refusal of the server, said once: its title and code, then its field errors as a list (the field named in
 * words) when it has any, else its detail (which, for field errors, only repeats them).
 */
export function ProblemView({ problem }: { problem: Problem | null }) {
  if (!problem) return null;
  const errors = fieldErrors(problem);
  return (
    <div class="problem" role="alert" data-code={problem.code}>
      <strong>{problem.title}</strong>
      {problem.status > 0 && (
        <span>
          {' '}
          ({problem.status}
          {problem.code ? ` ${problem.code}` : ''})
        </span>
      )}
      {errors.length > 0 ? (
        <ul>
          {errors.map((error) => (
            <li key={`${error.path}:${error.message}`} data-path={error.path}>
              {error.path ? `${fieldName(error.path)}: ` : ''}
              {error.message}
            </li>
          ))}
        </ul>
      ) : (
        problem.detail && <div>{problem.detail}</div>
      )}
    </div>
  );
}

/** The problem document of a failure (an ApiProblem's own, or one made for anything else). */
export const problemOf = (error: unknown): Problem =>
  error instanceof ApiProblem
    ? error.problem
    : { title: 'Something went wrong', status: 0, detail: error instanceof Error ? error.message : String(error) };

/** A status label with its colour (and its text, so colour is never the only sign). */
export function Badge({ value }: { value: string }) {
  return <span class={`badge ${value}`}>{value.replace(/_/g, ' ')}</span>;
}

/** Data read from the API: the value, the refusal if any, and a way to read it again. */
export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[]) {
  const [value, setValue] = useState<T | undefined>(undefined);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [loading, setLoading] = useState(true);
  const latest = useRef(0);
  // the caller names what the load depends on
  const reload = useCallback(async () => {
    const call = ++latest.current;
    setLoading(true);
    try {
      const loaded = await load();
      if (call !== latest.current) return;
      setValue(loaded);
      setProblem(null);
    } catch (error) {
      if (call !== latest.current) return;
      setProblem(problemOf(error));
    } finally {
      if (call === latest.current) setLoading(false);
    }
  }, deps);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { value, problem, loading, reload };
}

/** A write and what became of it: running, its refusal, its success message. */
export function useAction() {
  const [problem, setProblem] = useState<Problem | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async (action: () => Promise<string | null>): Promise<boolean> => {
    setBusy(true);
    setProblem(null);
    setDone(null);
    try {
      setDone(await action());
      return true;
    } catch (error) {
      setProblem(problemOf(error));
      return false;
    } finally {
      setBusy(false);
    }
  };
  const feedback = (
    <>
      <ProblemView problem={problem} />
      {done && (
        <div class="done" role="status">
          {done}
        </div>
      )}
    </>
  );
  const clear = () => {
    setProblem(null);
    setDone(null);
  };
  return { run, busy, problem, done, feedback, clear };
}

/**
 * A button that asks before it acts: the first press names what will happen, the second does it. Used for the
 * actions of a list (commit, cancel, retry), where a dialog per row would be heavier than the question.
 */
export function ConfirmButton(props: {
  label: string;
  question: string;
  onConfirm: () => Promise<unknown>;
  danger?: boolean;
  disabled?: boolean;
}) {
  const [asking, setAsking] = useState(false);
  const yes = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (asking) yes.current?.focus();
  }, [asking]);
  if (!asking)
    return (
      <button
        type="button"
        class={props.danger ? 'danger' : undefined}
        disabled={props.disabled}
        onClick={() => {
          setAsking(true);
        }}
      >
        {props.label}
      </button>
    );
  return (
    <span class="confirm-inline" role="group" aria-label={props.question}>
      <span>{props.question} </span>
      <button
        ref={yes}
        type="button"
        class="primary"
        onClick={() => {
          setAsking(false);
          void props.onConfirm();
        }}
      >
        Yes, {props.label.toLowerCase()}
      </button>{' '}
      <button
        type="button"
        onClick={() => {
          setAsking(false);
        }}
      >
        No
      </button>
    </span>
  );
}

/** The time left until a deadline, ticking each second ("4:59"), or "expired". */
export function Countdown({ until }: { until: string }) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => {
      setNow(Date.now());
    }, 1000);
    return () => {
      clearInterval(timer);
    };
  }, []);
  const left = Math.max(0, Math.round((Date.parse(until) - now) / 1000));
  if (left === 0) return <span class="countdown">expired</span>;
  const minutes = Math.floor(left / 60);
  const seconds = String(left % 60).padStart(2, '0');
  return (
    <span class="countdown" title={`expires at ${new Date(until).toLocaleString()}`}>
      <span aria-hidden="true">⏱ </span>
      {minutes}:{seconds} left
    </span>
  );
}

/** A date and time as the browser's locale writes it. */
export const when = (iso: string | null | undefined): string => (iso ? new Date(iso).toLocaleString() : '—');

/** A number with a sign: +3, −2, 0. */
export const signed = (n: number): string => (n > 0 ? `+${n}` : n < 0 ? `−${-n}` : '0');

/** The value of a form's field by name, as text. */
export function field(form: HTMLFormElement, name: string): string {
  const element = form.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement | null;
  return element?.value.trim() ?? '';
}

/** A page's title, which is also the document's (a screen reader hears where it is). */
export function Title({ children }: { children: string }) {
  useEffect(() => {
    document.title = `${children} · stockroom admin`;
  }, [children]);
  return <h1>{children}</h1>;
}

/**
 * A table in a scrolling box (wide tables scroll sideways on a phone), with a caption for screen readers.
 * `stacked`: on a phone each row is a card of its cells, each cell named by its `data-label`, nothing off-screen.
 */
export function DataTable(props: { caption: string; children: ComponentChildren; id?: string; stacked?: boolean }) {
  return (
    <div class="table-wrap" tabIndex={0} role="region" aria-label={props.caption}>
      <table id={props.id} class={props.stacked ? 'stacked' : undefined}>
        <caption class="visually-hidden">{props.caption}</caption>
        {props.children}
      </table>
    </div>
  );
}

/** A field with its label (every input has one). */
export function Field(props: { label: string; children: JSX.Element; hint?: string }) {
  return (
    <label>
      {props.label}
      {props.children}
      {props.hint && <span class="muted">{props.hint}</span>}
    </label>
  );
}

/** A table's header row: each column a label, or [label, 'num'] for a right-aligned number column. */
export function TableHead({ columns }: { columns: readonly (string | readonly [string, 'num'])[] }) {
  return (
    <thead>
      <tr>
        {columns.map((column) =>
          typeof column === 'string' ? (
            <th scope="col" key={column}>
              {column}
            </th>
          ) : (
            <th scope="col" class="num" key={column[0]}>
              {column[0]}
            </th>
          ),
        )}
      </tr>
    </thead>
  );
}

/** A labelled choice of codes (warehouses, suppliers), with an empty first choice when `none` names it. */
export function CodeSelect(props: {
  label: string;
  name: string;
  codes: readonly { code: string }[];
  none?: string;
  required?: boolean;
}) {
  return (
    <label>
      {props.label}
      <select name={props.name} required={props.required}>
        {props.none !== undefined && <option value="">{props.none}</option>}
        {props.codes.map((item) => (
          <option key={item.code} value={item.code}>
            {item.code}
          </option>
        ))}
      </select>
    </label>
  );
}

/** An ISO 8601 date-time inside a key's name (the demo names its key after when it was made). */
const ISO_TIME = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?/;
/** Names longer than this are cut in the header (the whole name stays in its tooltip). */
const NAME_SHOWN = 32;

/** A key's name as the header shows it: a date-time in it as the locale writes it, shortened; whole as a tooltip. */
export function KeyName({ name }: { name: string }) {
  const stamp = ISO_TIME.exec(name)?.[0];
  const at = stamp === undefined ? NaN : Date.parse(stamp);
  const short = Number.isNaN(at)
    ? name
    : name.replace(stamp ?? '', new Date(at).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }));
  const shown = short.length > NAME_SHOWN ? `${short.slice(0, NAME_SHOWN - 1)}…` : short;
  return <span title={shown === name ? undefined : name}>{shown}</span>;
}
