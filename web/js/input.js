// Keyboard, mouse and touch, reduced to what the protocol can say: a move vector of
// length <= 1 and whether attack is held. Sending is main.js's job.

const KEYS = {
  KeyW: [0, -1], ArrowUp: [0, -1],
  KeyS: [0, 1], ArrowDown: [0, 1],
  KeyA: [-1, 0], ArrowLeft: [-1, 0],
  KeyD: [1, 0], ArrowRight: [1, 0],
};
const STICK_RADIUS = 50;  // px the knob may travel
const STICK_DEAD = 0.18;  // ignore tiny thumb drift

export class Controls {
  // onLetGo: called after the controls were let go because the window lost focus or the
  // page went out of sight (hidden, or going): what was held must stop now (main.js sends it).
  constructor({ canvas, stick, knob, attackButton, onLetGo = () => {} }) {
    this.keys = new Set();
    this.mouseAttack = false;
    this.touchAttack = false;
    this.keyAttack = false;
    this.pulse = false;       // a click shorter than one send interval still attacks once
    this.stickVec = [0, 0];
    this.enabled = true;      // false while the name prompt has the keyboard

    addEventListener('keydown', (e) => {
      if (!this.enabled || isTyping(e)) return;
      if (KEYS[e.code]) this.keys.add(e.code);
      else if (e.code === 'Space') {
        this.keyAttack = true;
        this.pulse = true;
      } else return;
      e.preventDefault();  // no page scrolling with arrows / space
    });
    addEventListener('keyup', (e) => {
      this.keys.delete(e.code);
      if (e.code === 'Space') this.keyAttack = false;
    });
    // Keys released while the window had no focus never send keyup: forget them all.
    const letGo = () => {
      this.releaseAll();
      onLetGo();
    };
    addEventListener('blur', letGo);
    addEventListener('pagehide', letGo);
    document.addEventListener('visibilitychange', () => document.hidden && letGo());

    canvas.addEventListener('mousedown', (e) => {
      if (e.button !== 0 || !this.enabled) return;
      this.mouseAttack = true;
      this.pulse = true;
    });
    addEventListener('mouseup', () => { this.mouseAttack = false; });
    canvas.addEventListener('contextmenu', (e) => e.preventDefault());

    this.setupTouch(stick, knob, attackButton);
  }

  releaseAll() {
    this.keys.clear();
    this.mouseAttack = this.touchAttack = this.keyAttack = this.pulse = false;
    this.stickVec = [0, 0];
  }

  setupTouch(stick, knob, attackButton) {
    // main.js shows the on-screen controls once the screen has been touched (right away
    // on a touch-first device).
    this.touchSeen = matchMedia('(pointer: coarse)').matches;
    addEventListener('touchstart', () => { this.touchSeen = true; }, { passive: true });

    let stickPointer = null;
    const moveKnob = (e) => {
      const r = stick.getBoundingClientRect();
      let dx = e.clientX - (r.left + r.width / 2);
      let dy = e.clientY - (r.top + r.height / 2);
      const len = Math.hypot(dx, dy);
      if (len > STICK_RADIUS) {
        dx *= STICK_RADIUS / len;
        dy *= STICK_RADIUS / len;
      }
      knob.style.transform = `translate(${dx}px, ${dy}px)`;
      const mag = Math.min(1, len / STICK_RADIUS);
      this.stickVec = mag < STICK_DEAD ? [0, 0] : [dx / STICK_RADIUS, dy / STICK_RADIUS];
    };
    stick.addEventListener('pointerdown', (e) => {
      stickPointer = e.pointerId;
      stick.setPointerCapture(e.pointerId);
      moveKnob(e);
    });
    stick.addEventListener('pointermove', (e) => { if (e.pointerId === stickPointer) moveKnob(e); });
    const endStick = (e) => {
      if (e.pointerId !== stickPointer) return;
      stickPointer = null;
      knob.style.transform = '';
      this.stickVec = [0, 0];
    };
    stick.addEventListener('pointerup', endStick);
    stick.addEventListener('pointercancel', endStick);

    const setAttack = (on) => {
      this.touchAttack = on;
      if (on) this.pulse = true;
      attackButton.classList.toggle('active', on);
    };
    attackButton.addEventListener('pointerdown', (e) => { e.preventDefault(); setAttack(true); });
    attackButton.addEventListener('pointerup', () => setAttack(false));
    attackButton.addEventListener('pointercancel', () => setAttack(false));
    attackButton.addEventListener('pointerleave', () => setAttack(false));
  }

  /** The wanted direction, length <= 1, rounded so that thumb jitter is not a "change". */
  move() {
    let x = this.stickVec[0];
    let y = this.stickVec[1];
    for (const k of this.keys) {
      x += KEYS[k][0];
      y += KEYS[k][1];
    }
    const len = Math.hypot(x, y);
    if (len > 1) {
      x /= len;
      y /= len;
    }
    return [round2(x), round2(y)];
  }

  get attackHeld() {
    return this.keyAttack || this.mouseAttack || this.touchAttack;
  }

  /** True once after any attack press, even if it was already released. */
  takePulse() {
    const p = this.pulse;
    this.pulse = false;
    return p;
  }
}

function round2(v) {
  return Math.round(v * 100) / 100 || 0;  // `|| 0` turns -0 into 0
}

function isTyping(e) {
  const t = e.target;
  return t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.isContentEditable);
}
