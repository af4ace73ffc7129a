// The core's CSS, injected into the shadow root (the launcher's base style comes with the
// loader). Colours, radius, size and offsets come from custom properties the theme sets on
// the host; the palette below switches for dark mode (and for `auto` when the system is dark).

const DARK = '--bg:var(--ca-bg,#111827);--fg:var(--ca-text,#f3f4f6);--soft:#0b1220;--bub:#1f2937;--line:#374151;--mute:#9ca3af';
const LAUNCHER_SPACE = 'calc(var(--ca-y,20px) + var(--ca-size,56px) + 12px)';

export const CSS = `
.p,.tz{--bg:var(--ca-bg,#fff);--fg:var(--ca-text,#111827);--soft:#f9fafb;--bub:#fff;--line:#e5e7eb;--mute:#6b7280;
font:14px/1.45 var(--ca-font,system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif);-webkit-font-smoothing:antialiased}
.dark{${DARK}}
@media (prefers-color-scheme:dark){.auto{${DARK}}}
.p{position:fixed;bottom:${LAUNCHER_SPACE};right:var(--ca-x,20px);z-index:1;width:360px;height:560px;max-width:calc(100vw - 40px);
max-height:calc(100vh - 108px);display:flex;flex-direction:column;overflow:hidden;box-sizing:border-box;
background:var(--bg);color:var(--fg);border-radius:var(--ca-radius,12px);
box-shadow:0 12px 40px rgba(17,24,39,.16),0 2px 8px rgba(17,24,39,.08);animation:ca-in .18s ease-out}
.p[hidden],.tz[hidden],.m[hidden],.ft[hidden]{display:none}
.p *,.tz *{box-sizing:border-box}
.left.p,.left.tz{right:auto;left:var(--ca-x,20px)}
@keyframes ca-in{from{opacity:0;transform:translateY(8px)}}
.hd{display:flex;align-items:center;gap:10px;padding:14px 12px 14px 16px;background:var(--ca-primary,#4f46e5);color:var(--ca-on-primary,#fff)}
.av{flex:none;width:36px;height:36px;border-radius:50%;display:flex;align-items:center;justify-content:center;
overflow:hidden;background:rgba(255,255,255,.22);font-weight:600;font-size:16px}
.av img{width:100%;height:100%;object-fit:cover}
.ti{flex:1;min-width:0}
.nm{font-weight:600;font-size:15px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.st{font-size:12px;opacity:.85;min-height:1em}
.x,.tzx{flex:none;display:flex;padding:6px;margin:0;border:0;border-radius:8px;background:none;color:inherit;cursor:pointer}
.x:hover{background:rgba(255,255,255,.16)}
.x:focus-visible,.tzx:focus-visible,.tzt:focus-visible,.q:focus-visible,.cb:focus-visible{outline:2px solid currentColor;outline-offset:1px}
.x svg,.tzx svg{width:20px;height:20px;fill:currentColor}
.err{padding:8px 16px;background:#fef2f2;color:#991b1b;font-size:13px}
.err[hidden],.ty[hidden],.bd[hidden]{display:none}
.list{flex:1;overflow-y:auto;overscroll-behavior:contain;padding:16px;display:flex;flex-direction:column;gap:8px;background:var(--soft)}
.m{max-width:80%;padding:8px 12px;border-radius:16px;white-space:pre-wrap;overflow-wrap:anywhere}
.m[data-role=agent],.m[data-role=staff]{align-self:flex-start;background:var(--bub);border:1px solid var(--line);border-end-start-radius:4px}
.m[data-role=customer]{align-self:flex-end;background:var(--ca-primary,#4f46e5);color:var(--ca-on-primary,#fff);border-end-end-radius:4px}
.m[data-role=system]{align-self:center;max-width:90%;padding:2px 8px;color:var(--mute);font-size:12px;text-align:center}
.m[data-state=sending]{opacity:.6}
.m[data-state=streaming]::after{content:"▍";opacity:.5}
.m a{color:inherit;text-decoration:underline}
.md{white-space:normal}
.md p,.md ul,.md ol,.md pre{margin:0 0 6px}
.md>:last-child{margin-bottom:0}
.md ul,.md ol{padding-inline-start:20px}
.md code{font:12.5px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:rgba(127,127,127,.15);padding:1px 4px;border-radius:4px}
.md pre{white-space:pre;overflow-x:auto;padding:8px;background:rgba(127,127,127,.12);border-radius:6px}
.md pre code{padding:0;background:none}
.cds{flex:none;display:flex;gap:8px;overflow-x:auto;align-self:stretch;padding-bottom:4px}
.cd{flex:none;width:200px;display:flex;flex-direction:column;gap:4px;padding-bottom:8px;background:var(--bub);border:1px solid var(--line);border-radius:12px;overflow:hidden}
.cd img{display:block;width:100%;height:auto;aspect-ratio:16/9;object-fit:cover;background:var(--line)}
.cdt,.pr{padding:0 10px}.cdt{font-weight:600}.cdt a{color:inherit}
.pr{color:var(--mute)}
.cb{margin:2px 10px 0;padding:6px;border:1px solid var(--line);border-radius:8px;background:none;color:var(--ca-primary,#4f46e5);font:inherit;text-align:center;text-decoration:none;cursor:pointer}
.qr{display:flex;flex-wrap:wrap;gap:6px;justify-content:flex-end}
.q{padding:6px 12px;border:1px solid var(--ca-primary,#4f46e5);border-radius:16px;background:var(--bub);color:var(--ca-primary,#4f46e5);font:inherit;cursor:pointer}
.q:hover,.cb:hover{background:var(--soft)}
.q:disabled{opacity:.5;cursor:default}
.csat{align-self:stretch;display:flex;flex-direction:column;gap:8px;padding:10px 12px;background:var(--bub);border:1px solid var(--line);border-radius:12px;text-align:center}
.csq{font-weight:600}
.css{display:flex;justify-content:center;gap:4px}
.cs{padding:0 4px;margin:0;border:0;background:none;color:var(--line);font-family:inherit;font-size:24px;line-height:1.2;cursor:pointer}
.cs.on,.cs:hover{color:var(--ca-primary,#4f46e5)}
.cs:focus-visible,.csc input:focus{outline:2px solid var(--ca-primary,#4f46e5);outline-offset:1px}
.csc{display:flex;gap:6px}
.csc input{flex:1;min-width:0;padding:6px 10px;border:1px solid var(--line);border-radius:16px;background:var(--bg);color:var(--fg);font:inherit}
.ty{display:flex;gap:4px;align-self:flex-start;margin:0 16px 8px;padding:12px;background:var(--bub);border:1px solid var(--line);border-radius:16px}
.ty span{width:6px;height:6px;border-radius:50%;background:#9ca3af;animation:ca-dot 1.2s infinite}
.ty span:nth-child(2){animation-delay:.2s}.ty span:nth-child(3){animation-delay:.4s}
@keyframes ca-dot{0%,60%,100%{opacity:.35;transform:none}30%{opacity:1;transform:translateY(-3px)}}
.cp{display:flex;align-items:flex-end;gap:8px;padding:10px 12px;border-top:1px solid var(--line);background:var(--bg)}
.cp textarea{flex:1;min-height:38px;max-height:120px;margin:0;padding:8px 10px;resize:none;border:1px solid var(--line);border-radius:10px;
background:var(--bub);color:var(--fg);font:inherit;outline:none}
.cp textarea:focus{border-color:var(--ca-primary,#4f46e5);box-shadow:0 0 0 1px var(--ca-primary,#4f46e5)}
.sd{flex:none;width:38px;height:38px;display:flex;align-items:center;justify-content:center;margin:0;padding:0;border:0;border-radius:50%;
background:var(--ca-primary,#4f46e5);color:var(--ca-on-primary,#fff);cursor:pointer}
.sd:disabled{opacity:.4;cursor:default}
.sd:focus-visible{outline:2px solid var(--ca-primary,#4f46e5);outline-offset:2px}
.sd svg{width:18px;height:18px;fill:currentColor}
.sd svg,.tzx svg{transform:scaleX(var(--flip,1))}
[dir=rtl]{--flip:-1}
.ft{padding:6px 0 8px;text-align:center;font-size:11px;color:var(--mute);background:var(--bg)}
.tz{position:fixed;bottom:${LAUNCHER_SPACE};right:var(--ca-x,20px);display:flex;align-items:flex-start;gap:2px;max-width:min(300px,calc(100vw - 40px));
padding:4px;background:var(--bg);color:var(--fg);border-radius:14px;box-shadow:0 6px 24px rgba(17,24,39,.18);animation:ca-in .18s ease-out}
.tzt{flex:1;margin:0;padding:8px 4px 8px 10px;border:0;background:none;color:inherit;font:inherit;text-align:start;cursor:pointer}
.tzx{color:var(--mute)}.tzx svg{width:16px;height:16px}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.l{transition:transform .15s}.l:hover{transform:scale(1.06)}.l:focus-visible{outline:3px solid var(--ca-primary,#4f46e5);outline-offset:3px}
.l .ic-x{display:none}
.l[aria-expanded=true] .ic-x{display:block}
.l[aria-expanded=true] svg:not(.ic-x){display:none}
.bd{position:absolute;top:-2px;right:-2px;min-width:20px;height:20px;padding:0 6px;border-radius:10px;background:#ef4444;color:#fff;
font:600 12px/20px system-ui,sans-serif;text-align:center;box-sizing:border-box}
@media (max-width:480px){
.p,.left.p{top:0;right:0;bottom:0;left:0;width:100%;height:100%;max-width:none;max-height:none;border-radius:0}
.cp textarea{font-size:16px}
.l[aria-expanded=true]{display:none}
}
@media (prefers-reduced-motion:reduce){.p,.tz,.ty span{animation:none}.l{transition:none}.l:hover{transform:none}}
`;
