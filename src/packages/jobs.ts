/**
 * Jobs in words: what a job does to the venv, for titles, the queue,
 * notifications and errors. One place, so that the sidebar and the
 * notifications name a job the same way.
 */
import { IJob } from './api';

export interface IJobWords {
  /** `install`, `uninstall` or `repair`: what happens to the object. */
  verb: 'install' | 'uninstall' | 'repair';
  /** What it happens to: `requests, rich`, `the venv`. */
  object: string;
}

export function jobWords(job: Pick<IJob, 'kind' | 'specs'>): IJobWords {
  switch (job.kind) {
    case 'repair':
      return { verb: 'repair', object: 'the venv' };
    case 'bootstrap':
      // The server's requirements file, installed at startup.
      return {
        verb: 'install',
        object: `the requirements in ${job.specs[0] ?? 'the server settings'}`
      };
    case 'uninstall':
      return { verb: 'uninstall', object: job.specs.join(', ') };
    default:
      return { verb: 'install', object: job.specs.join(', ') };
  }
}

/** `Install requests`, `Repair the venv`. */
export function jobAction(job: Pick<IJob, 'kind' | 'specs'>): string {
  const { verb, object } = jobWords(job);
  return `${capitalize(verb)} ${object}`;
}

/** `Installing requests`, `Repairing the venv`. */
export function jobProgress(job: Pick<IJob, 'kind' | 'specs'>): string {
  const { verb, object } = jobWords(job);
  return `${capitalize(verb.replace(/e$/, ''))}ing ${object}`;
}

/** `Installed requests`, `Repaired the venv`. */
export function jobDone(job: Pick<IJob, 'kind' | 'specs'>): string {
  const { verb, object } = jobWords(job);
  return `${capitalize(verb.replace(/e$/, ''))}ed ${object}`;
}

/** `the install of requests`, `the repair of the venv`. */
export function jobNoun(job: Pick<IJob, 'kind' | 'specs'>): string {
  const { verb, object } = jobWords(job);
  return `the ${verb} of ${object}`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
