import { useEffect, useState } from 'react';

export type ThemeChoice = 'light' | 'dark' | 'system';
const KEY = 'storepulse.theme';

export const storedTheme = (): ThemeChoice => {
  const v = localStorage.getItem(KEY);
  return v === 'light' || v === 'dark' ? v : 'system';
};

const systemDark = () => window.matchMedia('(prefers-color-scheme: dark)').matches;

/** `data-theme` on <html> selects the CSS variables; 'system' follows prefers-color-scheme. */
export function applyTheme(choice: ThemeChoice): 'light' | 'dark' {
  const effective = choice === 'system' ? (systemDark() ? 'dark' : 'light') : choice;
  document.documentElement.dataset.theme = effective;
  return effective;
}

/** The chosen theme, the one in effect, and a toggle that flips between light and dark. */
export function useTheme() {
  const [choice, setChoice] = useState<ThemeChoice>(storedTheme);
  const [effective, setEffective] = useState(() => applyTheme(choice));
  useEffect(() => {
    setEffective(applyTheme(choice));
    if (choice !== 'system') localStorage.setItem(KEY, choice);
    const media = window.matchMedia('(prefers-color-scheme: dark)');
    const follow = () => choice === 'system' && setEffective(applyTheme('system'));
    media.addEventListener('change', follow);
    return () => media.removeEventListener('change', follow);
  }, [choice]);
  return { effective, toggle: () => setChoice(effective === 'dark' ? 'light' : 'dark') };
}
