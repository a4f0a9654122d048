/*
 * http_page.c - the status page: one HTML document, nothing external
 *
 * Inline CSS and script, the data embedded as JSON, so the page draws
 * at load without another request and works behind any proxy; it then
 * refreshes itself from /summary.json and /history.json every minute.
 * The banner: the host's name (or [http] title), since when the incident
 * runs, the summary in plain words, when it is likely done or why there
 * is no estimate, and what senders should do once mail went past its
 * deadline. Then the incident timeline (parent_timeline.c), newest
 * first, every text set with textContent, never as markup.
 * Charts on <canvas>: the backlog (all queues, and what waits its turn),
 * the pressure (the limit drawn and labelled at 1.0) and, once the milter
 * has run, the mail coming in per minute (admitted, and deferred or
 * held), over the last hours; a stretch without samples is a gap, not a
 * line across it. When the charts are drawn the script sets data-drawn on
 * <body> to "2" (with data) or "1" (no history yet), data-ink-backlog,
 * data-ink-pressure and data-ink-incoming to the number of canvas pixels
 * in each chart's line colour (the legend alone is 56; a line across a
 * chart adds one pixel per column or more), data-gaps to the gaps drawn
 * and data-timeline to the entries shown: the tests read them.
 */
#include "config.h"

#include <string.h>

#include "ebb/util.h"
#include "http.h"

static const char page_head[] =
"<!DOCTYPE html>\n"
"<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
"<title>Mail delivery status</title>\n"
"<style>\n"
"body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f6f7f9;"
"color:#1d2330}\n"
"main{max-width:920px;margin:0 auto;padding:24px}\n"
"h1{font-size:1.5em;margin:0 0 12px}\n"
"#words{font-size:1.15em;background:#fff;border-left:6px solid #888;"
"padding:12px 16px;margin:0 0 16px}\n"
"#words.normal{border-color:#2e8b57}#words.recovering{border-color:#d9a400}"
"\n#words.busy,#words.paused{border-color:#c0392b}\n"
".facts{display:flex;gap:12px;flex-wrap:wrap;margin:0 0 16px}\n"
".facts div{background:#fff;padding:8px 14px;border-radius:4px}\n"
".facts b{display:block;font-size:1.4em}\n"
"h2{font-size:1.05em;margin:16px 0 4px}\n"
"canvas{width:100%;height:240px;background:#fff;display:block}\n"
".charts{display:grid;grid-template-columns:1fr 1fr;gap:16px}\n"
"@media (max-width:720px){.charts{grid-template-columns:1fr}}\n"
"footer{color:#666;font-size:.85em;margin-top:16px}\n"
"#since,#advice{margin:0 0 12px}#advice{font-weight:600}\n"
"#timeline{list-style:none;padding:0;margin:0 0 16px;background:#fff}\n"
"#timeline li{padding:8px 14px;border-bottom:1px solid #eee}\n"
"#timeline time{display:block;color:#555;font-size:.85em}\n"
"#timeline li.note{border-left:4px solid #2f6fb3}\n"
"#timeline li.expired,#timeline li.paused{border-left:4px solid #c0392b}\n"
"#incoming-box{display:none}\n"
".facts small{display:block;max-width:16em;color:#555}\n"
"</style></head>\n"
"<body data-drawn=\"0\"><main>\n"
"<h1 id=\"title\">Mail delivery status</h1>\n"
"<p id=\"since\"></p>\n"
"<p id=\"words\">Loading&hellip;</p>\n"
"<p id=\"advice\"></p>\n"
"<div class=\"facts\"><div>waiting<b id=\"waiting\">&ndash;</b></div>\n"
"<div>delivering per second<b id=\"rate\">&ndash;</b></div>\n"
"<div>done in<b id=\"eta\">&ndash;</b><small id=\"eta-why\"></small>"
"</div>\n"
"<div>delivered from the backlog<b id=\"released\">&ndash;</b></div>"
"</div>\n"
"<h2>What happened</h2>\n<ol id=\"timeline\"></ol>\n"
"<div class=\"charts\"><div><h2>Mail waiting (last hours)</h2>"
"<canvas id=\"backlog\"></canvas></div>\n"
"<div><h2>Server load (1.0 = the limit)</h2>"
"<canvas id=\"pressure\"></canvas></div>\n"
"<div id=\"incoming-box\"><h2>Mail coming in (per minute)</h2>"
"<canvas id=\"incoming\"></canvas></div></div>\n"
"<footer id=\"updated\"></footer>\n"
"</main>\n"
"<script id=\"data\" type=\"application/json\">";

static const char page_tail[] =
"</script>\n"
"<script>\n"
"'use strict';\n"
"function fmtDur(s){if(s==null)return'\\u2013';if(s<120)return'minutes';"
"if(s<5400)return Math.round(s/60)+' min';if(s<172800)"
"return Math.round(s/3600)+' h';return Math.round(s/86400)+' days';}\n"
"function fmtN(n){return n==null?'\\u2013':n.toLocaleString('en');}\n"
"function nice(v){var p=Math.pow(10,Math.floor(Math.log10(v))),"
"m=[1,1.5,2,2.5,3,4,5,6,8,10].find(function(k){return k*p>=v;});"
"return m*p;}\n"
"function chart(id,pts,series,ymin1,gap){\n"
" var c=document.getElementById(id),r=window.devicePixelRatio||1;\n"
" var w=c.clientWidth,h=c.clientHeight;c.width=w*r;c.height=h*r;\n"
" var g=c.getContext('2d');g.scale(r,r);g.clearRect(0,0,w,h);\n"
" var L=56,R=10,T=10,B=24,x0,x1,ymax=ymin1?1.2:1,i,s;\n"
" if(!pts.length){g.fillStyle='#666';g.font='14px sans-serif';"
"g.fillText('no data yet',L,h/2);return 0;}\n"
" if(pts.length==1)pts=[pts[0],[pts[0][0]+1].concat(pts[0].slice(1))];\n"
" x0=pts[0][0];x1=pts[pts.length-1][0];if(x1<=x0)x1=x0+1;\n"
" series.forEach(function(s){pts.forEach(function(p){"
"if(p[s.i]!=null&&p[s.i]>ymax)ymax=p[s.i];});});\n"
" if(!ymin1)ymax=nice(Math.max(ymax,10)*1.05);\n"
" var div=ymin1?4:5;\n"
" function X(t){return L+(t-x0)/(x1-x0)*(w-L-R);}\n"
" function Y(v){return T+(1-v/ymax)*(h-T-B);}\n"
" g.strokeStyle='#ddd';g.fillStyle='#555';g.font='12px sans-serif';"
"g.lineWidth=1;\n"
" for(i=0;i<=div;i++){var v=ymax*i/div,y=Y(v);g.beginPath();g.moveTo(L,y);"
"g.lineTo(w-R,y);g.stroke();g.fillText(ymin1?v.toFixed(2):"
"Math.round(v).toLocaleString('en'),4,y+4);}\n"
" for(i=0;i<=4;i++){var t=x0+(x1-x0)*i/4,d=new Date(t*1000);"
"g.textAlign=i?(i<4?'center':'right'):'left';"
"g.fillText(d.toTimeString().slice(0,5),X(t),h-6);}\n"
" g.textAlign='left';\n"
" if(ymin1){g.strokeStyle='#c0392b';g.setLineDash([6,4]);g.beginPath();"
"g.moveTo(L,Y(1));g.lineTo(w-R,Y(1));g.stroke();g.setLineDash([]);"
"g.fillStyle='#c0392b';g.textAlign='right';"
"g.fillText('1.0 = limit',w-R-4,Y(1)-4);g.textAlign='left';}\n"
" var gaps=0;series.forEach(function(s){g.strokeStyle=s.color;"
"g.lineWidth=s.w||2;g.beginPath();var on=false,last=null;"
"pts.forEach(function(p){var v=p[s.i];"
"if(last!=null&&p[0]-last>gap){on=false;gaps++;}last=p[0];"
"if(v==null){on=false;return;}if(on)g.lineTo(X(p[0]),Y(v));"
"else g.moveTo(X(p[0]),Y(v));on=true;});g.stroke();});\n"
" var lx=L+8;series.forEach(function(s){g.fillStyle=s.color;"
"g.fillRect(lx,T+4,14,4);g.fillStyle='#333';g.fillText(s.name,lx+18,T+10);"
"lx+=g.measureText(s.name).width+40;});\n"
" return gaps;\n"
"}\n"
"function text(id,t){var e=document.getElementById(id);"
"e.textContent=t||'';e.style.display=t?'':'none';return e;}\n"
"function perMin(p,i,gap){var o=[];p.forEach(function(q,k){var r=p[k-1];"
"if(!r||q[i]==null||r[i]==null||q[0]-r[0]>gap||q[0]<=r[0]||q[i]<r[i])"
"{o.push(null);return;}o.push((q[i]-r[i])/(q[0]-r[0])*60);});"
"return o;}\n"
"function timeline(h){var ol=document.getElementById('timeline'),"
"t=(h&&h.timeline)||[];ol.textContent='';t.forEach(function(x){"
"var li=document.createElement('li'),tm=document.createElement('time');"
"li.className=x.kind;tm.textContent=x.local;li.appendChild(tm);"
"li.appendChild(document.createTextNode(x.text));ol.appendChild(li);});"
"if(!t.length){var li=document.createElement('li');"
"li.textContent='Nothing to report: mail is flowing normally.';"
"ol.appendChild(li);}return t.length;}\n"
"function show(d){\n"
" var s=d.summary,h=d.history||{},p=h.points||[];\n"
" var gap=Math.max(3*(h.step||1),3*(h.interval||1),30);\n"
" document.getElementById('title').textContent=(s.title||'Mail')+"
"': mail delivery status';\n"
" document.title=(s.title||'Mail')+': mail delivery status';\n"
" text('since',s.since_local?'Since '+s.since_local+'.':'');\n"
" text('advice',s.advice);\n"
" var e=document.getElementById('words');e.textContent=s.words;"
"e.className=s.state;\n"
" document.getElementById('waiting').textContent=fmtN(s.waiting);\n"
" document.getElementById('rate').textContent=s.rate==null||!s.waiting?"
"'\\u2013':s.rate.toFixed(1);\n"
" document.getElementById('eta').textContent=!s.waiting?'done':"
"s.eta!=null?fmtDur(s.eta):'no estimate';\n"
" text('eta-why',s.waiting&&s.eta==null?(s.eta_words||'').replace("
"/^no estimate( yet)?: /,''):'');\n"
" document.getElementById('released').textContent="
"fmtN(s.released_total);\n"
" document.getElementById('updated').textContent='Updated '+"
"new Date(s.time*1000).toLocaleString()+'. This page refreshes "
"itself every minute.';\n"
" var b=document.body,gaps=chart('backlog',p,[{i:2,name:'in the queue',"
"color:'#2f6fb3',w:5},{i:3,name:'waiting its turn',color:'#d9a400'}],"
"false,gap);\n"
" chart('pressure',p,[{i:1,name:'load',color:'#8e44ad'}],true,gap);\n"
" var milter=p.some(function(q){return q[5]!=null;});\n"
" document.getElementById('incoming-box').style.display=milter?'block':"
"'none';\n"
" if(milter){var a=perMin(p,5,gap),f=perMin(p,6,gap),"
"q=p.map(function(x,k){return [x[0],a[k],f[k]];});"
"chart('incoming',q,[{i:1,name:'admitted',color:'#1e8449',w:3},"
"{i:2,name:'deferred or held',color:'#c0392b'}],false,gap);"
"b.setAttribute('data-ink-incoming',ink('incoming',[30,132,73]));}\n"
" b.setAttribute('data-timeline',String(timeline(h)));\n"
" b.setAttribute('data-gaps',String(gaps));\n"
" b.setAttribute('data-drawn',String(p.length?2:1));\n"
" b.setAttribute('data-ink-backlog',ink('backlog',[47,111,179]));\n"
" b.setAttribute('data-ink-pressure',ink('pressure',[142,68,173]));\n"
"}\n"
"function ink(id,rgb){var c=document.getElementById(id),n=0,i,"
"d=c.getContext('2d').getImageData(0,0,c.width,c.height).data;\n"
" for(i=0;i<d.length;i+=4)if(Math.abs(d[i]-rgb[0])<40&&"
"Math.abs(d[i+1]-rgb[1])<40&&Math.abs(d[i+2]-rgb[2])<40&&d[i+3]>200)n++;\n"
" return String(n);}\n"
"function refresh(){Promise.all([fetch('summary.json'),"
"fetch('history.json')]).then(function(r){return Promise.all("
"[r[0].json(),r[1].json()]);}).then(function(j){show({summary:j[0],"
"history:j[1]});}).catch(function(){});}\n"
"show(JSON.parse(document.getElementById('data').textContent));\n"
"setInterval(refresh,60000);\n"
"window.addEventListener('resize',refresh);\n"
"</script></body></html>\n";

/* append_json - text with every '<' as \u003c, so it cannot end a script */
static size_t
append_json(char *out, const char *text)
{
	size_t	 n = 0;

	for (; *text != '\0'; text++) {
		if (*text == '<') {
			memcpy(out + n, "\\u003c", 6);
			n += 6;
		} else
			out[n++] = *text;
	}
	return n;
}

char *
http_page(const char *summary, const char *history)
{
	static const char mid1[] = "{\"summary\":", mid2[] = ",\"history\":";
	size_t	 size, n = 0;
	char	*out;

	size = sizeof(page_head) + sizeof(mid1) + sizeof(mid2) +
	    6 * (strlen(summary) + strlen(history)) + 1 + sizeof(page_tail);
	out = xmalloc(size);
	memcpy(out, page_head, sizeof(page_head) - 1);
	n = sizeof(page_head) - 1;
	memcpy(out + n, mid1, sizeof(mid1) - 1);
	n += sizeof(mid1) - 1;
	n += append_json(out + n, summary);
	memcpy(out + n, mid2, sizeof(mid2) - 1);
	n += sizeof(mid2) - 1;
	n += append_json(out + n, history);
	out[n++] = '}';
	memcpy(out + n, page_tail, sizeof(page_tail));
	return out;
}
