"""A second Ableton Link peer for the tests, in a process of its own, using the binding directly.

It answers one line for each line read from stdin:
``tempo BPM`` sets the session tempo (answers the Link clock's micros of the change),
``state`` answers ``TEMPO PEERS``, ``beat MICROS`` answers the beat at that clock time (quantum 4).
"""

from __future__ import annotations

import sys

import link


def main() -> None:
    peer = link.Link(float(sys.argv[1]))
    peer.enabled = True
    clock = peer.clock()
    print("ready", flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "tempo":
            state = peer.captureSessionState()
            micros = clock.micros()
            state.setTempo(float(words[1]), micros)
            peer.commitSessionState(state)
            print(micros, flush=True)
        elif words[0] == "state":
            print(peer.captureSessionState().tempo(), peer.numPeers(), flush=True)
        elif words[0] == "beat":
            state = peer.captureSessionState()
            print(repr(state.beatAtTime(int(words[1]), 4.0)), repr(state.phaseAtTime(int(words[1]), 4.0)), flush=True)
    peer.enabled = False


if __name__ == "__main__":
    main()
