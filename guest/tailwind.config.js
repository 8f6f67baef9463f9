// Tailwind (v3: its output is about a third smaller than v4's for the same classes, which the
// 70 KB budget needs). No preflight (index.css has a smaller reset) and no opacity variables:
// every colour is a plain hex value.

/** @type {import('tailwindcss').Config} */
export default {
  // Tests are left out: words in their strings would otherwise become classes in the bundle.
  content: ['./index.html', './src/**/*.{ts,tsx}', '!./src/**/__tests__/**'],
  theme: {
    extend: {
      colors: {
        ink: '#15110e',
        night: '#1f1915',
        dusk: '#2b231d',
        line: '#43372d',
        cream: '#f6efe6',
        sand: '#cbbba8',
        ember: '#f5b454',
        coral: '#ff9b78',
        moss: '#7ad39b',
        alert: '#ffa199',
        // Solid stand-ins for translucent tints over the cards.
        glow: '#3f301e',
        hint: '#998b7a',
        'alert-bg': '#2e1e1b',
        'alert-line': '#6b4541',
      },
      fontFamily: {
        // The body's own stack (index.css), so .font-sans repeats it rather than adding another.
        sans: ['system-ui', '-apple-system', '"Segoe UI"', 'Roboto', 'sans-serif'],
        display: ['ui-serif', '"Iowan Old Style"', '"Palatino Linotype"', 'Palatino', 'Georgia', 'serif'],
        mono: ['ui-monospace', 'Menlo', 'Consolas', 'monospace'],
      },
    },
  },
  corePlugins: {
    preflight: false,
    backgroundOpacity: false,
    textOpacity: false,
    borderOpacity: false,
    divideOpacity: false,
    placeholderOpacity: false,
    ringOpacity: false,
    // space-y-* and divide-y are written out in index.css without the reverse variables and
    // calc() Tailwind adds to each (nothing here uses *-reverse or the hidden attribute).
    space: false,
    divideWidth: false,
    divideColor: false,
  },
  // Words in the scripts that happen to be utility names (style.transform, capitalize(), the
  // avatar's inline `filter: drop-shadow(...)`...).
  blocklist: ['visible', 'fixed', '!fixed', 'static', 'inline', 'transform', 'filter', 'capitalize', 'contents', 'table', 'drop-shadow'],
};
