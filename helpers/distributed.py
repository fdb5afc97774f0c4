"""Training on several devices with ``tf.distribute``: each replica attacks and learns from its share.

Explained in the README section "Training on a GPU or several"; used by
:func:`helpers.training.run_epoch` and :func:`helpers.training.fit` when given a ``strategy``
(``tf.distribute.MirroredStrategy`` for several GPUs of one machine,
``tf.distribute.MultiWorkerMirroredStrategy`` for several machines). Nothing here distributes
by hand: TensorFlow splits the work, all-reduces the gradients and keeps the mirrored weights
equal. The host draws each batch's random starts (they do not depend on the model) with the
same generator, in the same order, as the one-device loop, so both give the same weights up to
float rounding (tested on two logical CPU devices).
"""

from __future__ import annotations

from typing import Callable, Optional

import keras
import numpy as np
import tensorflow as tf

from helpers.attacks import ascent_loop
from helpers.fast_training import ascent_plan

__all__ = ["distributed_train_step", "split_across_replicas"]


def distributed_train_step(model: keras.Model, optimizer: keras.optimizers.Optimizer,
                            attack: Optional[object], strategy: tf.distribute.Strategy) -> Callable:
    """A compiled step that, on every replica, attacks its share of the batch and takes the update.

    Called with per-replica (images, starts, labels); returns the summed loss and number correct
    over all replicas. The loss is averaged over the whole global batch, so the all-reduced
    gradient is the single-device one.
    """
    plan = None if attack is None else ascent_plan(attack)
    if not optimizer.built:  # its slots are made here, in the scope, not lazily inside the step
        with strategy.scope():
            optimizer.build(model.trainable_variables)
    if plan is not None:
        loop = ascent_loop(model, plan.norm, plan.loss, tuple(model.input_shape[1:]))
        numbers = [tf.constant(v, tf.float32) for v in (plan.eps, plan.step_size)] + [tf.constant(plan.steps)]

    def replica_step(images, starts, labels):
        if plan is not None:
            images = loop(images, starts, labels, *numbers, tf.constant(1.0), tf.constant(0.0), tf.ones_like(images))
        count = tf.distribute.get_replica_context().all_reduce("sum", tf.cast(tf.shape(labels)[0], tf.float32))
        with tf.GradientTape() as tape:
            logits = model(images, training=True)
            losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
            loss = tf.reduce_sum(losses) / tf.maximum(count, 1.0)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return tf.reduce_sum(losses), tf.reduce_sum(tf.cast(tf.argmax(logits, axis=-1) == labels, tf.float32))

    @tf.function
    def step(images, starts, labels):
        loss, correct = strategy.run(replica_step, args=(images, starts, labels))
        return (strategy.reduce("sum", loss, axis=None), strategy.reduce("sum", correct, axis=None))

    return step


def split_across_replicas(strategy: tf.distribute.Strategy, arrays: tuple[np.ndarray, ...]) -> list:
    """One global batch as per-replica values: replica i gets the i-th contiguous share."""
    def shares(array: np.ndarray):
        def share(context: tf.distribute.ValueContext) -> tf.Tensor:
            parts = np.array_split(np.arange(len(array)), context.num_replicas_in_sync)
            return tf.constant(array[parts[context.replica_id_in_sync_group]])
        return strategy.experimental_distribute_values_from_function(share)
    return [shares(array) for array in arrays]
