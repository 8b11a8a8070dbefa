/**
 * The trackers' slot table, the one thing in the cluster they agree on: which slot (the high 8
 * bits of the volume ids it writes) each storage node has in its group. Kept in Apache Ratis
 * (Raft) embedded in the trackers: {@link dev.wimg.server.internal.slots.SlotTable} is the state,
 * {@link dev.wimg.server.internal.slots.SlotStateMachine} applies the Raft log to it, and
 * {@link dev.wimg.server.internal.slots.SlotService} runs a tracker's Raft server and client. Uses
 * nothing of the rest of the server.
 */
package dev.wimg.server.internal.slots;
