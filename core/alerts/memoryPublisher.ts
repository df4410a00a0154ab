import type { AlertMessage, AlertPublisher } from './message';

export interface MemoryPublisherOptions {
  /** Print each message (subject, then the body indented). @default true */
  readonly print?: boolean;
  /** Where printing goes. @default console.log */
  readonly log?: (line: string) => void;
}

/**
 * The local runtime's publisher: keeps every message in `messages` (the runtime exposes it as
 * `env.alerts`) and prints it, so alerts show on the console as they would arrive by email.
 */
export class MemoryPublisher implements AlertPublisher {
  readonly messages: AlertMessage[] = [];
  private readonly print: boolean;
  private readonly log: (line: string) => void;

  constructor(options: MemoryPublisherOptions = {}) {
    this.print = options.print ?? true;
    this.log = options.log ?? ((line) => console.log(line));
  }

  async publish(message: AlertMessage): Promise<void> {
    this.messages.push(message);
    if (!this.print) return;
    const body = message.text
      .split('\n')
      .map((line) => `    ${line}`)
      .join('\n');
    this.log(`🔔 ALERT [${message.severity}] ${message.subject}\n${body}`);
  }
}
