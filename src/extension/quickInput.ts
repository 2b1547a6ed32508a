/**
 * An input box that keeps what was typed: a check on Enter (the box busy meanwhile) that fails leaves
 * the box open with the value and the reason, instead of closing and losing the text. Escape resolves
 * undefined. Sign In uses it to probe a server URL before asking for credentials.
 */
import * as vscode from 'vscode';
import { errorMessage } from '../gateway/errors';

export interface AskOptions {
  title: string;
  prompt: string;
  value?: string;
  placeholder?: string;
  password?: boolean;
  /** Shown at once: why an earlier attempt failed. */
  error?: string;
  /** Checked as the user types; a string (or an Error severity) blocks Enter. */
  validate?: (value: string) => string | vscode.InputBoxValidationMessage | undefined;
  /** Runs on Enter; returns a reason to stay open with, or undefined to accept the value. */
  check?: (value: string) => Promise<string | undefined>;
  /** Selects this range of the value (default: all of it, as VS Code does). */
  valueSelection?: [number, number];
  /** Called with what was typed when the box closes without Enter (Escape, focus lost): keep it. */
  onCancel?: (value: string) => void;
}

function blocks(m: string | vscode.InputBoxValidationMessage | undefined): boolean {
  return typeof m === 'string' ? m.length > 0 : m?.severity === vscode.InputBoxValidationSeverity.Error;
}

export function ask(o: AskOptions): Promise<string | undefined> {
  return new Promise((resolve) => {
    const box = vscode.window.createInputBox();
    box.title = o.title;
    box.prompt = o.prompt;
    box.value = o.value ?? '';
    if (o.valueSelection) box.valueSelection = o.valueSelection;
    box.placeholder = o.placeholder;
    box.password = o.password ?? false;
    box.ignoreFocusOut = true;
    box.validationMessage = o.error ?? (o.value ? o.validate?.(o.value) : undefined);
    let done = false;
    let checking = false;
    const finish = (v: string | undefined): void => {
      if (done) return;
      done = true;
      resolve(v);
      box.dispose();
    };
    box.onDidChangeValue((v) => {
      if (!checking) box.validationMessage = o.validate?.(v);
    });
    box.onDidAccept(async () => {
      if (checking || done) return;
      const v = box.value;
      const invalid = o.validate?.(v);
      if (blocks(invalid)) {
        box.validationMessage = invalid;
        return;
      }
      if (!o.check) return finish(v);
      checking = true;
      box.busy = true;
      box.enabled = false;
      let failure: string | undefined;
      try {
        failure = await o.check(v);
      } catch (err) {
        failure = errorMessage(err);
      }
      checking = false;
      box.busy = false;
      box.enabled = true;
      if (failure === undefined) finish(v);
      else box.validationMessage = { message: failure, severity: vscode.InputBoxValidationSeverity.Error };
    });
    box.onDidHide(() => {
      if (!done) o.onCancel?.(box.value);
      finish(undefined);
    });
    box.show();
  });
}
