// Copies the microphone's samples (channel 0) to the page in blocks of 4096 frames.
class Tap extends AudioWorkletProcessor {
  constructor() {
    super();
    this.block = new Float32Array(4096);
    this.filled = 0;
    this.port.onmessage = (e) => {
      if (e.data === "flush" && this.filled > 0) {
        this.port.postMessage(this.block.slice(0, this.filled));
        this.filled = 0;
      }
    };
  }
  process(inputs) {
    const input = inputs[0];
    if (input.length > 0) {
      const x = input[0];
      let i = 0;
      while (i < x.length) {
        const n = Math.min(x.length - i, this.block.length - this.filled);
        this.block.set(x.subarray(i, i + n), this.filled);
        this.filled += n;
        i += n;
        if (this.filled === this.block.length) {
          this.port.postMessage(this.block.slice());
          this.filled = 0;
        }
      }
    }
    return true;
  }
}
registerProcessor("tap", Tap);
