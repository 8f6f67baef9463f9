// PostCSS runs Tailwind over src/index.css during the Vite build.
export default { plugins: { tailwindcss: {} } };
