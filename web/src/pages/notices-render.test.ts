// The letter renderer of "Mes courriers": Markdown becomes React text, never HTML, so a letter
// (or anything injected into one) cannot add markup or script to the portal.
import { describe, expect, it } from 'vitest';
import { createElement, Fragment } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { renderLetter } from './NoticesPage';

const html = (markdown: string) => renderToStaticMarkup(createElement(Fragment, null, ...renderLetter(markdown)));

describe('renderLetter', () => {
  it('renders the letters\' Markdown subset: headings, bold leads, lists, paragraphs', () => {
    expect(html('# Titre\n\nRéférence : dossier 1\n\n**Ce qui a été consulté :**\n- identité\n- coordonnées\n\n## Contact')).toBe(
      '<h3>Titre</h3><p>Référence : dossier 1</p><p><strong>Ce qui a été consulté :</strong></p><ul><li>identité</li><li>coordonnées</li></ul><h4>Contact</h4>',
    );
  });

  it('escapes markup: a script or an HTML tag stays text', () => {
    const out = html('# <img src=x onerror=alert(1)>\n<script>alert(1)</script>\n- **<b>x</b>**');
    expect(out).not.toContain('<script');
    expect(out).not.toContain('<img');
    expect(out).not.toContain('<b>');
    expect(out).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });
});
