/**
 * The kernel's logo, written next to kernel.json by `tspool install` (Jupyter frontends show
 * `logo-svg.svg` in their launchers). Kept in code so it ships with dist/ without extra files.
 */
export const LOGO_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="64" height="64">
  <rect width="64" height="64" rx="10" fill="#3178c6"/>
  <circle cx="18" cy="18" r="5" fill="#ffffff" opacity="0.55"/>
  <circle cx="32" cy="18" r="5" fill="#ffffff" opacity="0.55"/>
  <circle cx="46" cy="18" r="5" fill="#ffffff" opacity="0.55"/>
  <text x="32" y="52" text-anchor="middle" font-family="Helvetica, Arial, sans-serif" font-size="26" font-weight="700" fill="#ffffff">TS</text>
</svg>
`;
