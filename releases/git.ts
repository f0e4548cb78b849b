// The real git binary, driven through child_process. Kepler needs little of
// git (commit, tag, an atomic push, fetch and reset), and the binary is what
// every operator's repository already trusts.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Actor } from '../eventstore/index.js';

const exec = promisify(execFile);

export class GitError extends Error {
  override readonly name = 'GitError';
  constructor(
    readonly args: readonly string[],
    readonly stderr: string,
    readonly stdout: string,
  ) {
    super(`git ${args.join(' ')} failed: ${(stderr || stdout).trim()}`);
  }
}

export const BRANCH = 'main';
export const REMOTE = 'origin';

/** Settings that keep a user's global git configuration from prompting or signing in the middle of a promotion. */
const QUIET = ['-c', 'commit.gpgsign=false', '-c', 'tag.gpgsign=false', '-c', 'core.hooksPath=/dev/null', '-c', 'advice.detachedHead=false'];

export class Git {
  constructor(readonly dir: string) {}

  async run(args: readonly string[], options: { actor?: Actor; allowFailure?: boolean } = {}): Promise<{ stdout: string; stderr: string; code: number }> {
    const env: NodeJS.ProcessEnv = { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' };
    if (options.actor) {
      const email = `${options.actor.subject.replace(/[^A-Za-z0-9._-]/g, '_')}@kepler.invalid`;
      Object.assign(env, { GIT_AUTHOR_NAME: options.actor.subject, GIT_AUTHOR_EMAIL: email, GIT_COMMITTER_NAME: options.actor.subject, GIT_COMMITTER_EMAIL: email });
    }
    try {
      const { stdout, stderr } = await exec('git', [...QUIET, ...args], { cwd: this.dir, env, maxBuffer: 64 * 1024 * 1024 });
      return { stdout, stderr, code: 0 };
    } catch (error) {
      const e = error as { code?: number | string; stdout?: string; stderr?: string };
      if (e.code === 'ENOENT') throw new Error('git is not installed (Kepler releases drive the git binary)');
      if (options.allowFailure && typeof e.code === 'number') return { stdout: e.stdout ?? '', stderr: e.stderr ?? '', code: e.code };
      throw new GitError(args, e.stderr ?? '', e.stdout ?? '');
    }
  }

  async out(args: readonly string[]): Promise<string> {
    return (await this.run(args)).stdout.trim();
  }

  async isRepository(): Promise<boolean> {
    return (await this.run(['rev-parse', '--git-dir'], { allowFailure: true })).code === 0;
  }

  async head(): Promise<string> {
    return this.out(['rev-parse', 'HEAD']);
  }

  async remoteUrl(): Promise<string | null> {
    const r = await this.run(['remote', 'get-url', REMOTE], { allowFailure: true });
    return r.code === 0 ? r.stdout.trim() : null;
  }

  /** Tracked files that differ from HEAD (untracked files do not make a source dirty). */
  async isDirty(): Promise<boolean> {
    return (await this.changedFiles()).length > 0;
  }

  /**
   * Brings the clone up to what the remote holds: fast-forwards, or rebases
   * local commits that have not reached it onto the remote's. No-op without a
   * remote. A rebase that conflicts is undone and reported.
   */
  async syncToRemote(): Promise<void> {
    if ((await this.remoteUrl()) === null) return;
    await this.run(['fetch', '--quiet', '--tags', REMOTE, `+refs/heads/${BRANCH}:refs/remotes/${REMOTE}/${BRANCH}`]);
    const upstream = `refs/remotes/${REMOTE}/${BRANCH}`;
    if ((await this.run(['rev-parse', '--verify', '--quiet', upstream], { allowFailure: true })).code !== 0) return;
    const ahead = Number(await this.out(['rev-list', '--count', `${upstream}..HEAD`]));
    if (ahead === 0) {
      await this.run(['merge', '--quiet', '--ff-only', upstream]);
      return;
    }
    const rebase = await this.run(['rebase', '--quiet', upstream], { allowFailure: true, actor: { subject: 'kepler' } });
    if (rebase.code !== 0) {
      await this.run(['rebase', '--abort'], { allowFailure: true });
      throw new GitError(['rebase', upstream], `${ahead} local commit(s) conflict with ${REMOTE}/${BRANCH}: resolve them in ${this.dir}`, rebase.stdout);
    }
  }

  /** Drops the last commit (one this process made and could not push). */
  async dropLastCommit(): Promise<void> {
    await this.run(['reset', '--quiet', '--hard', 'HEAD~1']);
  }

  /** Tracked files with changes not committed, by path. */
  async changedFiles(): Promise<string[]> {
    // Not trimmed: each line starts with its two status columns, the first of which may be a space.
    return (await this.run(['status', '--porcelain', '--untracked-files=no'])).stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => line.slice(3));
  }

  async commit(message: string, paths: readonly string[], actor: Actor): Promise<string> {
    await this.run(['add', '--all', '--', ...paths]);
    await this.run(['commit', '--quiet', '--allow-empty', '-m', message], { actor });
    return this.head();
  }

  async tag(name: string, commit: string, message: string, actor: Actor): Promise<void> {
    await this.run(['tag', '--annotate', name, commit, '-m', message], { actor });
  }

  async tagExists(name: string): Promise<boolean> {
    return (await this.run(['rev-parse', '--verify', '--quiet', `refs/tags/${name}`], { allowFailure: true })).code === 0;
  }

  async deleteTag(name: string): Promise<void> {
    await this.run(['tag', '--delete', name], { allowFailure: true });
  }

  /**
   * Pushes the branch and the tags in one atomic push. 'rejected' when the
   * remote moved on (someone else pushed first): the caller syncs and tries again.
   */
  async push(tags: readonly string[]): Promise<'pushed' | 'rejected' | 'no-remote'> {
    if ((await this.remoteUrl()) === null) return 'no-remote';
    const refs = [`HEAD:refs/heads/${BRANCH}`, ...tags.map((t) => `refs/tags/${t}:refs/tags/${t}`)];
    const r = await this.run(['push', '--porcelain', '--atomic', REMOTE, ...refs], { allowFailure: true });
    if (r.code === 0) return 'pushed';
    const text = `${r.stdout}\n${r.stderr}`;
    if (/\[rejected\]|\[remote rejected\]|non-fast-forward|fetch first|atomic push failed|already exists/.test(text)) return 'rejected';
    throw new GitError(['push', ...refs], r.stderr, r.stdout);
  }

  /** Tags under a prefix with the commit each points at, oldest first. */
  async tags(prefix: string): Promise<Array<{ name: string; commit: string; subject: string }>> {
    const out = await this.out(['for-each-ref', '--sort=creatordate', '--format=%(refname:strip=2)%09%(*objectname)%09%(subject)', `refs/tags/${prefix}`]);
    return out
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [name, commit, subject] = line.split('\t') as [string, string, string];
        return { name, commit, subject };
      });
  }

  /** The branch's commits, newest first, with their trailers. */
  async log(max = 1000): Promise<Array<{ commit: string; subject: string; body: string }>> {
    const out = await this.out(['log', `-${max}`, '--format=%H%x1f%s%x1f%b%x1e']);
    return out
      .split('\x1e')
      .map((r) => r.trim())
      .filter(Boolean)
      .map((record) => {
        const [commit, subject, body] = record.split('\x1f') as [string, string, string];
        return { commit, subject, body: body ?? '' };
      });
  }
}
