import { useEffect, useState } from 'preact/hooks';
import { ApiError, get, getOptional, token, type Whoami } from './api.js';
import { ErrorBox } from './components.js';
import { onMode, restartLive, type LiveMode } from './live.js';
import { Link, match, navigate, useLocation } from './router.js';
import { SessionContext, type Session } from './session.js';
import { ModelsPage } from './pages/models.js';
import { ModelPage } from './pages/model.js';
import { DeploymentsPage } from './pages/deployments.js';
import { NewDeploymentPage } from './pages/new-deployment.js';
import { DeploymentPage } from './pages/deployment.js';
import { FleetPage } from './pages/fleet.js';
import { DevicePage } from './pages/device.js';
import { TelemetryPage } from './pages/telemetry.js';

/** Who the token is: /api/v1/whoami, or on a hub without it, whether it reads at all. */
async function identify(): Promise<Session> {
  const me = await getOptional<Whoami>('/api/v1/whoami');
  if (me) return { ...me, roleKnown: true };
  await get('/api/v1/models', { limit: 1 }); // 401 for a bad token
  return { token_id: null, name: 'token', role: 'viewer', roleKnown: false };
}

function SignIn(props: { onSignedIn: (s: Session) => void; error: Error | null }) {
  const [value, setValue] = useState('');
  const [error, setError] = useState<Error | null>(props.error);
  const [busy, setBusy] = useState(false);
  return (
    <main id="main" class="signin">
      <h1>Sentinel Model Hub</h1>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError(null);
          token.set(value.trim());
          try {
            props.onSignedIn(await identify());
          } catch (err) {
            token.clear();
            setError(err as Error);
          } finally {
            setBusy(false);
          }
        }}
      >
        <label class="field">
          <span>API token</span>
          <input
            type="password"
            name="token"
            autoComplete="off"
            required
            value={value}
            onInput={(e) => setValue((e.target as HTMLInputElement).value)}
          />
          <small>
            Kept in this browser tab only (sessionStorage); create one with `sentinel token create`
            or POST /api/v1/tokens.
          </small>
        </label>
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
      <ErrorBox error={error} />
    </main>
  );
}

const NAV = [
  ['/models', 'Models'],
  ['/deployments', 'Deployments'],
  ['/fleet', 'Fleet'],
  ['/telemetry', 'Telemetry'],
] as const;

function Page({ path }: { path: string }) {
  let p: Record<string, string> | null;
  if (path === '/' || path === '/models') return <ModelsPage />;
  if ((p = match('/models/:id', path))) return <ModelPage id={p.id!} />;
  if (path === '/deployments') return <DeploymentsPage />;
  if (path === '/deployments/new') return <NewDeploymentPage />;
  if ((p = match('/deployments/:id', path))) return <DeploymentPage id={p.id!} />;
  if (path === '/fleet') return <FleetPage />;
  if ((p = match('/fleet/devices/:id', path))) return <DevicePage id={p.id!} />;
  if (path === '/telemetry') return <TelemetryPage />;
  return (
    <>
      <h1>Not found</h1>
      <p>
        No console page at {path}. <Link href="/models">Models</Link>
      </p>
    </>
  );
}

const MODE_TEXT: Record<LiveMode, string> = {
  off: '',
  connecting: 'connecting…',
  stream: 'live',
  polling: 'polling every 2 s',
};

/** Whether the page follows the hub live (events) or by polling (a hub without /api/v1/events). */
function LiveIndicator() {
  const [mode, setMode] = useState<LiveMode>('off');
  useEffect(() => onMode(setMode), []);
  return (
    <span class="live" data-testid="live" data-mode={mode} aria-live="polite">
      {MODE_TEXT[mode]}
    </span>
  );
}

export function App() {
  const { path } = useLocation();
  const [session, setSession] = useState<Session | null>(null);
  const [checking, setChecking] = useState(token.get() !== null);
  const [error, setError] = useState<Error | null>(null);
  useEffect(() => {
    if (!token.get()) return;
    identify().then(
      (s) => {
        setSession(s);
        setChecking(false);
      },
      (err: Error) => {
        if (err instanceof ApiError && err.status === 401) token.clear();
        setError(err);
        setChecking(false);
      },
    );
  }, []);
  useEffect(() => {
    const title = NAV.find(([href]) => path.startsWith(href))?.[1] ?? 'Models';
    document.title = `${title} · Sentinel Model Hub`;
  }, [path]);
  if (checking) return <p role="status">Checking the token…</p>;
  if (!session)
    return (
      <SignIn
        error={error}
        onSignedIn={(s) => {
          setSession(s);
          restartLive();
          if (path === '/') navigate('/models');
        }}
      />
    );
  return (
    <SessionContext.Provider value={session}>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <Link href="/models" class="brand">
          Sentinel
        </Link>
        <nav aria-label="Main">
          <ul>
            {NAV.map(([href, label]) => (
              <li key={href}>
                <Link
                  href={href}
                  aria-current={
                    path.startsWith(href) || (href === '/models' && path === '/')
                      ? 'page'
                      : undefined
                  }
                >
                  {label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div class="who">
          <LiveIndicator />
          <span data-testid="whoami">
            {session.name} · {session.roleKnown ? session.role : 'role unknown'}
          </span>
          <button
            type="button"
            onClick={() => {
              token.clear();
              setSession(null);
              restartLive();
            }}
          >
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Page path={path} />
      </main>
    </SessionContext.Provider>
  );
}
