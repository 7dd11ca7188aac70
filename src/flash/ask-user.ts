import process from 'node:process';
import { createInterface } from 'node:readline/promises';

export interface Asker {
  // Resolves true only for an explicit yes.
  confirm(question: string): Promise<boolean>;
  // Resolves the chosen index, or undefined when the answer is not one of the choices.
  choose(question: string, choices: string[]): Promise<number | undefined>;
}

// Questions on stderr, answers from stdin; only usable at a terminal.
export const terminalAsker: Asker = {
  async confirm(question) {
    const answer = await ask(`${question} [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  },
  async choose(question, choices) {
    const listing = choices.map((choice, i) => `  ${i + 1}) ${choice}`).join('\n');
    const answer = Number((await ask(`${question}\n${listing}\nnumber: `)).trim());
    return Number.isInteger(answer) && answer >= 1 && answer <= choices.length ? answer - 1 : undefined;
  },
};

// True when someone can answer a question.
export function canAsk(): boolean {
  return process.stdin.isTTY === true;
}

async function ask(question: string): Promise<string> {
  const readline = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await readline.question(question);
  } finally {
    readline.close();
  }
}
