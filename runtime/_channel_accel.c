/* The hot path of fearless's channels in C, for CPython with and without the GIL.
 *
 * runtime/channel.py defines the channel in Python: `_Chan` (the state the two
 * ends share), `Sender` and `Receiver`.  When this module imports (it was
 * compiled for the interpreter: a C compiler at install time, or
 * tools/build_accel.sh for the free-threaded one) and FEARLESS_PURE_PYTHON is
 * not set, channel.py rebinds the three names to classes over the types here,
 * with every other method taken unchanged from the Python classes.  What is C:
 *
 * - `ChanBase`: the fields of `_Chan`, the same objects under the same names
 *   (the RLock, the SimpleQueue, the buffer deque, the wait queues), with the
 *   counters and flags as C words;
 * - `SenderBase.send` and `ReceiverBase.recv`, the paths that do not block:
 *   on an unbounded channel one `put` or `get_nowait` of its SimpleQueue (as
 *   channel.py's Python does), on a bounded one the append to or the take from
 *   the buffer under the channel's RLock when there is room or a value.
 *   Everything else (blocking, timeouts, closed ends, disconnection, the
 *   rendezvous hand-off) calls the Python methods `_send_locked`,
 *   `_recv_locked`, `_wait` and `_woken`, which take the lock again and
 *   re-check the whole state: the C path only ever skips to a result the
 *   Python path would have reached from the same state.
 *
 * Thread safety, with or without the GIL.  The channel's shared state (the
 * buffer, the counters, the flags) changes only under the channel's RLock,
 * here as in channel.py, or inside one atomic C call of the SimpleQueue,
 * exactly as channel.py's module docstring describes.  The fields that are
 * read without the lock (`receiver_alive`, `senders`, an end's `closed`) are
 * single words accessed atomically (relaxed: the RLock and the queue's own
 * lock do the ordering).  The object fields of a `_Chan` are set once by
 * __init__ (a second __init__ raises) and never change; those of a Sender or
 * Receiver (`_chan`, `_put`/`_get`, which `close` sets to None) are read and
 * written in a critical section on the end object, and the hot path takes
 * its own references to them before using them.  On a free-threaded build the
 * module says it does not need the GIL, so importing it leaves the GIL off.
 *
 * Finalizers (channel.py's module docstring): a locked section here allocates
 * no object that the garbage collector tracks, so no finalizer can run in it;
 * if one did, the RLock lets it re-enter, as in Python.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#ifdef Py_GIL_DISABLED
#define LOAD(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)
#define STORE(field, v) __atomic_store_n(&(field), (v), __ATOMIC_RELAXED)
#define BEGIN_FIELDS(op) Py_BEGIN_CRITICAL_SECTION(op)
#define END_FIELDS() Py_END_CRITICAL_SECTION()
#else
#define LOAD(field) (field)
#define STORE(field, v) ((field) = (v))
#define BEGIN_FIELDS(op) {
#define END_FIELDS() }
#endif

/* -- the state ------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    PyObject *lock;            /* threading.RLock */
    PyObject *lock_acquire;    /* its bound acquire / release */
    PyObject *lock_release;
    PyObject *queue;           /* unbounded: the SimpleQueue; bounded: None */
    PyObject *buffer;          /* bounded: the values (a deque) */
    PyObject *buffer_append;
    PyObject *buffer_popleft;
    PyObject *bound;           /* None or the int */
    Py_ssize_t cbound;         /* -1 for None */
    PyObject *recv_waiters;    /* _WaitQueue (deques of parked threads' locks) */
    PyObject *send_waiters;
    PyObject *handoff_waiters;
    Py_ssize_t senders;        /* open Senders */
    char receiver_alive;
    Py_ssize_t pushed;         /* values ever appended to buffer */
    Py_ssize_t taken;          /* values ever taken by the receiver */
} ChanObject;

/* A Sender or a Receiver: the same fields. */
typedef struct {
    PyObject_HEAD
    ChanObject *chan;
    PyObject *fn;              /* unbounded: the queue's put (Sender) or get_nowait
                                  (Receiver); None once closed, and on a bounded channel */
    char closed;
} EndObject;

/* Set by register(). */
typedef struct {
    PyObject *drop_late;       /* channel._drop_late(chan) */
    PyObject *wake;            /* channel._WAKE */
    PyObject *queue_empty;     /* queue.Empty, which get_nowait raises */
} Registry;

static Registry reg;

/* Interned names of the Python methods called. */
static PyObject *str_send_locked, *str_recv_locked, *str_wait, *str_woken, *str_popleft, *str_release;

static PyTypeObject ChanBaseType;
static PyTypeObject SenderBaseType;
static PyTypeObject ReceiverBaseType;

static int
not_registered(void)
{
    if (reg.wake == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "fearless._channel_accel: register() was not called");
        return 1;
    }
    return 0;
}

static int
chan_init(ChanObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"lock", "queue", "buffer", "bound", "recv_waiters", "send_waiters",
                             "handoff_waiters", NULL};
    PyObject *lock, *queue, *buffer, *bound, *rw, *sw, *hw;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOOOOOO", kwlist, &lock, &queue, &buffer, &bound, &rw, &sw, &hw))
        return -1;
    Py_ssize_t cbound = -1;
    if (bound != Py_None) {
        cbound = PyLong_AsSsize_t(bound);
        if (cbound == -1 && PyErr_Occurred())
            return -1;
        if (cbound < 0) {
            PyErr_Format(PyExc_ValueError, "bound must be >= 0, not %zd", cbound);
            return -1;
        }
    }
    if ((queue == Py_None) == (bound == Py_None)) {
        PyErr_SetString(PyExc_ValueError, "a queue for an unbounded channel, None for a bounded one");
        return -1;
    }
    PyObject *acquire = PyObject_GetAttrString(lock, "acquire");
    PyObject *release = acquire ? PyObject_GetAttrString(lock, "release") : NULL;
    PyObject *append = release ? PyObject_GetAttrString(buffer, "append") : NULL;
    PyObject *popleft = append ? PyObject_GetAttrString(buffer, "popleft") : NULL;
    if (popleft == NULL) {
        Py_XDECREF(acquire);
        Py_XDECREF(release);
        Py_XDECREF(append);
        return -1;
    }
    int again = 0;
    BEGIN_FIELDS(self);
    if (self->lock != NULL) {
        again = 1;
    } else {
        self->lock = Py_NewRef(lock);
        self->lock_acquire = acquire;
        self->lock_release = release;
        self->queue = Py_NewRef(queue);
        self->buffer = Py_NewRef(buffer);
        self->buffer_append = append;
        self->buffer_popleft = popleft;
        self->bound = Py_NewRef(bound);
        self->cbound = cbound;
        self->recv_waiters = Py_NewRef(rw);
        self->send_waiters = Py_NewRef(sw);
        self->handoff_waiters = Py_NewRef(hw);
        STORE(self->senders, 1);
        STORE(self->receiver_alive, 1);
        self->pushed = 0;
        self->taken = 0;
    }
    END_FIELDS();
    if (again) {
        Py_DECREF(acquire);
        Py_DECREF(release);
        Py_DECREF(append);
        Py_DECREF(popleft);
        PyErr_SetString(PyExc_RuntimeError, "a channel's state is initialised once");
        return -1;
    }
    return 0;
}

static int
chan_traverse(ChanObject *self, visitproc visit, void *arg)
{
    Py_VISIT(self->lock);
    Py_VISIT(self->lock_acquire);
    Py_VISIT(self->lock_release);
    Py_VISIT(self->queue);
    Py_VISIT(self->buffer);
    Py_VISIT(self->buffer_append);
    Py_VISIT(self->buffer_popleft);
    Py_VISIT(self->bound);
    Py_VISIT(self->recv_waiters);
    Py_VISIT(self->send_waiters);
    Py_VISIT(self->handoff_waiters);
    return 0;
}

/* Only for unreachable garbage; a cleared channel is never used again, and
   the hot paths check `lock` before using anything. */
static int
chan_clear(ChanObject *self)
{
    Py_CLEAR(self->lock_acquire);
    Py_CLEAR(self->lock_release);
    Py_CLEAR(self->lock);
    Py_CLEAR(self->queue);
    Py_CLEAR(self->buffer_append);
    Py_CLEAR(self->buffer_popleft);
    Py_CLEAR(self->buffer);
    Py_CLEAR(self->bound);
    Py_CLEAR(self->recv_waiters);
    Py_CLEAR(self->send_waiters);
    Py_CLEAR(self->handoff_waiters);
    return 0;
}

/* The types here are static and their instances are of Python subclasses:
   the subclass's own traverse and dealloc (CPython's subtype_traverse and
   subtype_dealloc) visit and release the heap type, so these must not. */
static void
chan_dealloc(ChanObject *self)
{
    PyObject_GC_UnTrack(self);
    chan_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
get_ssize(Py_ssize_t *field)
{
    return PyLong_FromSsize_t(LOAD(*field));
}

static int
set_ssize(Py_ssize_t *field, PyObject *value)
{
    if (value == NULL) {
        PyErr_SetString(PyExc_AttributeError, "cannot delete a channel counter");
        return -1;
    }
    Py_ssize_t v = PyLong_AsSsize_t(value);
    if (v == -1 && PyErr_Occurred())
        return -1;
    STORE(*field, v);
    return 0;
}

static PyObject *chan_get_senders(ChanObject *self, void *c) { return get_ssize(&self->senders); }
static int chan_set_senders(ChanObject *self, PyObject *v, void *c) { return set_ssize(&self->senders, v); }
static PyObject *chan_get_pushed(ChanObject *self, void *c) { return get_ssize(&self->pushed); }
static int chan_set_pushed(ChanObject *self, PyObject *v, void *c) { return set_ssize(&self->pushed, v); }
static PyObject *chan_get_taken(ChanObject *self, void *c) { return get_ssize(&self->taken); }
static int chan_set_taken(ChanObject *self, PyObject *v, void *c) { return set_ssize(&self->taken, v); }

static PyObject *
get_flag(char *field)
{
    return PyBool_FromLong(LOAD(*field));
}

static int
set_flag(char *field, PyObject *value)
{
    if (value == NULL) {
        PyErr_SetString(PyExc_AttributeError, "cannot delete a flag");
        return -1;
    }
    int v = PyObject_IsTrue(value);
    if (v < 0)
        return -1;
    STORE(*field, (char)v);
    return 0;
}

static PyObject *chan_get_alive(ChanObject *self, void *c) { return get_flag(&self->receiver_alive); }
static int chan_set_alive(ChanObject *self, PyObject *v, void *c) { return set_flag(&self->receiver_alive, v); }

static PyGetSetDef chan_getset[] = {
    {"senders", (getter)chan_get_senders, (setter)chan_set_senders, "open Senders", NULL},
    {"receiver_alive", (getter)chan_get_alive, (setter)chan_set_alive, "the Receiver is open", NULL},
    {"pushed", (getter)chan_get_pushed, (setter)chan_set_pushed, "values ever appended to buffer", NULL},
    {"taken", (getter)chan_get_taken, (setter)chan_set_taken, "values ever taken by the receiver", NULL},
    {NULL}
};

static PyMemberDef chan_members[] = {
    {"lock", T_OBJECT_EX, offsetof(ChanObject, lock), READONLY, NULL},
    {"queue", T_OBJECT_EX, offsetof(ChanObject, queue), READONLY, NULL},
    {"buffer", T_OBJECT_EX, offsetof(ChanObject, buffer), READONLY, NULL},
    {"bound", T_OBJECT_EX, offsetof(ChanObject, bound), READONLY, NULL},
    {"recv_waiters", T_OBJECT_EX, offsetof(ChanObject, recv_waiters), READONLY, NULL},
    {"send_waiters", T_OBJECT_EX, offsetof(ChanObject, send_waiters), READONLY, NULL},
    {"handoff_waiters", T_OBJECT_EX, offsetof(ChanObject, handoff_waiters), READONLY, NULL},
    {NULL}
};

static PyTypeObject ChanBaseType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "fearless._channel_accel.ChanBase",
    .tp_basicsize = sizeof(ChanObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "The C part of fearless.channel._Chan.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)chan_init,
    .tp_traverse = (traverseproc)chan_traverse,
    .tp_clear = (inquiry)chan_clear,
    .tp_dealloc = (destructor)chan_dealloc,
    .tp_members = chan_members,
    .tp_getset = chan_getset,
};

/* -- the channel's lock and wait queues -------------------------------------- */

static int
chan_acquire(ChanObject *chan)
{
    PyObject *r = PyObject_CallNoArgs(chan->lock_acquire); /* blocks without the GIL */
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* Release the lock; an exception already set is kept (and wins). */
static int
chan_release(ChanObject *chan)
{
#if PY_VERSION_HEX >= 0x030C0000
    PyObject *exc = PyErr_GetRaisedException();
#else
    PyObject *et, *ev, *tb;
    PyErr_Fetch(&et, &ev, &tb);
#endif
    PyObject *r = PyObject_CallNoArgs(chan->lock_release);
    Py_XDECREF(r);
#if PY_VERSION_HEX >= 0x030C0000
    if (exc != NULL) {
        if (r == NULL)
            PyErr_Clear();
        PyErr_SetRaisedException(exc);
        return -1;
    }
#else
    if (et != NULL) {
        if (r == NULL)
            PyErr_Clear();
        PyErr_Restore(et, ev, tb);
        return -1;
    }
#endif
    return r == NULL ? -1 : 0;
}

/* _WaitQueue.notify_one / notify_all, lock held: release a parked thread's
   private lock. */
static int
notify(PyObject *waiters, int all)
{
    for (;;) {
        Py_ssize_t n = PyObject_Size(waiters);
        if (n < 0)
            return -1;
        if (n == 0)
            return 0;
        PyObject *waiter = PyObject_CallMethodNoArgs(waiters, str_popleft);
        if (waiter == NULL)
            return -1;
        PyObject *r = PyObject_CallMethodNoArgs(waiter, str_release);
        Py_DECREF(waiter);
        if (r == NULL)
            return -1;
        Py_DECREF(r);
        if (!all)
            return 0;
    }
}

/* -- both ends ------------------------------------------------------------------ */

/* Sender(_chan) / Receiver(_chan): `fn_name` is the queue's method that the
   end's fast path calls on an unbounded channel. */
static int
end_init(EndObject *self, PyObject *args, PyObject *kwds, const char *fn_name, const char *noun)
{
    static char *kwlist[] = {"_chan", NULL};
    PyObject *chan;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!", kwlist, &ChanBaseType, &chan))
        return -1;
    PyObject *queue = ((ChanObject *)chan)->queue;
    if (queue == NULL) {
        PyErr_SetString(PyExc_TypeError, "the channel state was not initialised");
        return -1;
    }
    PyObject *fn = queue == Py_None ? Py_NewRef(Py_None) : PyObject_GetAttrString(queue, fn_name);
    if (fn == NULL)
        return -1;
    int again = 0;
    BEGIN_FIELDS(self);
    if (self->chan != NULL) {
        again = 1;
    } else {
        self->chan = (ChanObject *)Py_NewRef(chan);
        self->fn = fn;
        STORE(self->closed, 0);
    }
    END_FIELDS();
    if (again) {
        Py_DECREF(fn);
        PyErr_Format(PyExc_RuntimeError, "%s is initialised once", noun);
        return -1;
    }
    return 0;
}

static int
end_traverse(EndObject *self, visitproc visit, void *arg)
{
    Py_VISIT(self->chan);
    Py_VISIT(self->fn);
    return 0;
}

static int
end_clear(EndObject *self)
{
    Py_CLEAR(self->chan);
    Py_CLEAR(self->fn);
    return 0;
}

static void
end_dealloc(EndObject *self)
{
    PyObject_GC_UnTrack(self);
    end_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* The end's object fields, each a new reference (or NULL), read together. */
static void
read_fields(EndObject *self, ChanObject **chan, PyObject **fn)
{
    BEGIN_FIELDS(self);
    *chan = (ChanObject *)Py_XNewRef(self->chan);
    *fn = Py_XNewRef(self->fn);
    END_FIELDS();
}

static PyObject *
end_get_chan(EndObject *self, void *Py_UNUSED(closure))
{
    ChanObject *chan;
    PyObject *fn;
    read_fields(self, &chan, &fn);
    Py_XDECREF(fn);
    if (chan == NULL)
        PyErr_SetString(PyExc_AttributeError, "_chan");
    return (PyObject *)chan;
}

/* Assigning or deleting an end's `_chan` (a test does, to detach an end). */
static int
end_set_chan(EndObject *self, PyObject *value, void *Py_UNUSED(closure))
{
    if (value != NULL && !PyObject_TypeCheck(value, &ChanBaseType)) {
        PyErr_SetString(PyExc_TypeError, "_chan must be a channel state");
        return -1;
    }
    PyObject *old;
    BEGIN_FIELDS(self);
    old = (PyObject *)self->chan;
    self->chan = (ChanObject *)Py_XNewRef(value);
    END_FIELDS();
    Py_XDECREF(old);
    return 0;
}

/* `_put` / `_get`. */
static PyObject *
end_get_fn(EndObject *self, void *Py_UNUSED(closure))
{
    ChanObject *chan;
    PyObject *fn;
    read_fields(self, &chan, &fn);
    Py_XDECREF(chan);
    return fn == NULL ? Py_NewRef(Py_None) : fn;
}

static int
end_set_fn(EndObject *self, PyObject *value, void *Py_UNUSED(closure))
{
    PyObject *old;
    BEGIN_FIELDS(self);
    old = self->fn;
    self->fn = Py_NewRef(value == NULL ? Py_None : value);
    END_FIELDS();
    Py_XDECREF(old);
    return 0;
}

static PyObject *end_get_closed(EndObject *self, void *c) { return get_flag(&self->closed); }
static int end_set_closed(EndObject *self, PyObject *v, void *c) { return set_flag(&self->closed, v); }

/* -- the sender -------------------------------------------------------------- */

static int
sender_init(EndObject *self, PyObject *args, PyObject *kwds)
{
    return end_init(self, args, kwds, "put", "a Sender");
}

/* Append `value` to a bounded channel's buffer if that is all send has to
   do (open, receiver there, room); 1: done, 0: not done (the Python path
   decides), -1: error. */
static int
bounded_push(ChanObject *chan, EndObject *sender, PyObject *value)
{
    if (chan_acquire(chan) < 0)
        return -1;
    int done = 0;
    if (!LOAD(sender->closed) && LOAD(chan->receiver_alive)) {
        Py_ssize_t n = PyObject_Size(chan->buffer);
        if (n < 0)
            goto error;
        if (n < chan->cbound) {
            PyObject *r = PyObject_CallOneArg(chan->buffer_append, value);
            if (r == NULL)
                goto error;
            Py_DECREF(r);
            STORE(chan->pushed, chan->pushed + 1);
            if (notify(chan->recv_waiters, 0) < 0)
                goto error;
            /* Room left: let the next blocked sender in too. */
            Py_ssize_t waiting = PyObject_Size(chan->send_waiters);
            if (waiting < 0)
                goto error;
            if (waiting > 0) {
                n = PyObject_Size(chan->buffer);
                if (n < 0)
                    goto error;
                if (n < chan->cbound && notify(chan->send_waiters, 0) < 0)
                    goto error;
            }
            done = 1;
        }
    }
    if (chan_release(chan) < 0)
        return -1;
    return done;
error:
    chan_release(chan);
    return -1;
}

static PyObject *
sender_send(EndObject *self, PyObject *value)
{
    if (not_registered())
        return NULL;
    ChanObject *chan;
    PyObject *put;
    read_fields(self, &chan, &put);
    if (chan != NULL && chan->lock != NULL) {
        if (put != NULL && put != Py_None && LOAD(chan->receiver_alive)) {
            /* Unbounded: one atomic C call (channel.py's module docstring). */
            PyObject *r = PyObject_CallOneArg(put, value);
            Py_DECREF(put);
            if (r == NULL)
                goto error;
            Py_DECREF(r);
            if (!LOAD(chan->receiver_alive)) {
                /* The receiver closed meanwhile: drop what it missed. */
                r = PyObject_CallOneArg(reg.drop_late, (PyObject *)chan);
                if (r == NULL)
                    goto error;
                Py_DECREF(r);
            }
            Py_DECREF(chan);
            Py_RETURN_NONE;
        }
        if (chan->cbound > 0 && !LOAD(self->closed) && LOAD(chan->receiver_alive)) {
            int done = bounded_push(chan, self, value);
            if (done < 0) {
                Py_XDECREF(put);
                goto error;
            }
            if (done) {
                Py_XDECREF(put);
                Py_DECREF(chan);
                Py_RETURN_NONE;
            }
        }
    }
    Py_XDECREF(put);
    Py_XDECREF(chan);
    /* Blocking, closed, disconnected, rendezvous: channel.py decides. */
    return PyObject_CallMethodOneArg((PyObject *)self, str_send_locked, value);
error:
    Py_DECREF(chan);
    return NULL;
}

static PyMethodDef sender_methods[] = {
    {"send", (PyCFunction)sender_send, METH_O,
     "send($self, value, /)\n--\n\n"
     "Send ``value`` to the receiver, moving it out of the caller (see Sender.send)."},
    {NULL}
};

static PyGetSetDef sender_getset[] = {
    {"_chan", (getter)end_get_chan, (setter)end_set_chan, NULL, NULL},
    {"_put", (getter)end_get_fn, (setter)end_set_fn, NULL, NULL},
    {"_closed", (getter)end_get_closed, (setter)end_set_closed, NULL, NULL},
    {NULL}
};

static PyTypeObject SenderBaseType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "fearless._channel_accel.SenderBase",
    .tp_basicsize = sizeof(EndObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "The C part of fearless.Sender.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)sender_init,
    .tp_traverse = (traverseproc)end_traverse,
    .tp_clear = (inquiry)end_clear,
    .tp_dealloc = (destructor)end_dealloc,
    .tp_methods = sender_methods,
    .tp_getset = sender_getset,
};

/* -- the receiver ------------------------------------------------------------- */

static int
receiver_init(EndObject *self, PyObject *args, PyObject *kwds)
{
    return end_init(self, args, kwds, "get_nowait", "a Receiver");
}

/* Take the first buffered value of a bounded channel if there is one and
   the receiver is open: a new reference; NULL without an exception: nothing
   taken (the Python path decides); NULL with one: error. */
static PyObject *
bounded_take(ChanObject *chan, EndObject *receiver)
{
    if (chan_acquire(chan) < 0)
        return NULL;
    PyObject *value = NULL;
    if (!LOAD(receiver->closed)) {
        Py_ssize_t n = PyObject_Size(chan->buffer);
        if (n < 0)
            goto error;
        if (n > 0) {
            value = PyObject_CallNoArgs(chan->buffer_popleft);
            if (value == NULL)
                goto error;
            STORE(chan->taken, chan->taken + 1);
            if (notify(chan->send_waiters, 0) < 0)
                goto error;
            if (chan->cbound == 0 && notify(chan->handoff_waiters, 1) < 0)
                goto error;
        }
    }
    if (chan_release(chan) < 0) {
        Py_XDECREF(value);
        return NULL;
    }
    return value;
error:
    chan_release(chan);
    Py_XDECREF(value);
    return NULL;
}

static PyObject *
receiver_recv(EndObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *timeout = Py_None;
    Py_ssize_t nkw = kwnames == NULL ? 0 : PyTuple_GET_SIZE(kwnames);
    if (nargs + nkw > 1) {
        PyErr_Format(PyExc_TypeError, "recv() takes at most 1 argument (%zd given)", nargs + nkw);
        return NULL;
    }
    if (nargs == 1) {
        timeout = args[0];
    } else if (nkw == 1) {
        PyObject *name = PyTuple_GET_ITEM(kwnames, 0);
        int is_timeout = PyUnicode_Check(name) && PyUnicode_CompareWithASCIIString(name, "timeout") == 0;
        if (!is_timeout) {
            PyErr_Format(PyExc_TypeError, "recv() got an unexpected keyword argument '%S'", name);
            return NULL;
        }
        timeout = args[0];
    }
    if (not_registered())
        return NULL;
    ChanObject *chan;
    PyObject *get;
    read_fields(self, &chan, &get);
    if (chan != NULL && chan->lock != NULL) {
        if (get != NULL && get != Py_None) {
            /* Unbounded: one atomic C call; block (in Python) only when empty. */
            PyObject *value = PyObject_CallNoArgs(get);
            Py_DECREF(get);
            if (value == NULL) {
                if (!PyErr_ExceptionMatches(reg.queue_empty))
                    goto error;
                PyErr_Clear();
                value = PyObject_CallMethodOneArg((PyObject *)self, str_wait, timeout);
                if (value == NULL)
                    goto error;
            }
            Py_DECREF(chan);
            if (value != reg.wake)
                return value;
            Py_DECREF(value);
            /* Disconnected or closed: _woken puts the token back and raises. */
            PyObject *r = PyObject_CallMethodNoArgs((PyObject *)self, str_woken);
            if (r == NULL)
                return NULL;
            Py_DECREF(r);
            return PyObject_CallMethodOneArg((PyObject *)self, str_recv_locked, timeout);
        }
        /* A timeout the Python path would reject is left to it. */
        if (chan->cbound >= 0 && (timeout == Py_None || PyFloat_CheckExact(timeout) || PyLong_CheckExact(timeout))) {
            PyObject *value = bounded_take(chan, self);
            if (value != NULL || PyErr_Occurred()) {
                Py_XDECREF(get);
                Py_DECREF(chan);
                return value;
            }
        }
    }
    Py_XDECREF(get);
    Py_XDECREF(chan);
    /* Empty, closed, disconnected: channel.py waits or raises. */
    return PyObject_CallMethodOneArg((PyObject *)self, str_recv_locked, timeout);
error:
    Py_DECREF(chan);
    return NULL;
}

static PyMethodDef receiver_methods[] = {
    {"recv", (PyCFunction)(void (*)(void))receiver_recv, METH_FASTCALL | METH_KEYWORDS,
     "recv($self, /, timeout=None)\n--\n\n"
     "Take the next value, blocking until one arrives (see Receiver.recv)."},
    {NULL}
};

static PyGetSetDef receiver_getset[] = {
    {"_chan", (getter)end_get_chan, (setter)end_set_chan, NULL, NULL},
    {"_get", (getter)end_get_fn, (setter)end_set_fn, NULL, NULL},
    {"_closed", (getter)end_get_closed, (setter)end_set_closed, NULL, NULL},
    {NULL}
};

static PyTypeObject ReceiverBaseType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "fearless._channel_accel.ReceiverBase",
    .tp_basicsize = sizeof(EndObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "The C part of fearless.Receiver.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)receiver_init,
    .tp_traverse = (traverseproc)end_traverse,
    .tp_clear = (inquiry)end_clear,
    .tp_dealloc = (destructor)end_dealloc,
    .tp_methods = receiver_methods,
    .tp_getset = receiver_getset,
};

/* -- the module --------------------------------------------------------------- */

static PyObject *
accel_register(PyObject *Py_UNUSED(module), PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"drop_late", "wake", "queue_empty", NULL};
    Registry r;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOO", kwlist, &r.drop_late, &r.wake, &r.queue_empty))
        return NULL;
    Py_INCREF(r.drop_late);
    Py_INCREF(r.wake);
    Py_INCREF(r.queue_empty);
    Py_XDECREF(reg.drop_late);
    Py_XDECREF(reg.wake);
    Py_XDECREF(reg.queue_empty);
    reg = r;
    Py_RETURN_NONE;
}

static PyMethodDef accel_functions[] = {
    {"register", (PyCFunction)(void (*)(void))accel_register, METH_VARARGS | METH_KEYWORDS,
     "Give the module channel.py's _drop_late, _WAKE and queue.Empty."},
    {NULL}
};

static struct PyModuleDef accel_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "fearless._channel_accel",
    .m_doc = "The hot path of fearless's channels in C; see runtime/channel.py.",
    .m_size = -1,
    .m_methods = accel_functions,
};

PyMODINIT_FUNC
PyInit__channel_accel(void)
{
    if ((str_send_locked = PyUnicode_InternFromString("_send_locked")) == NULL
        || (str_recv_locked = PyUnicode_InternFromString("_recv_locked")) == NULL
        || (str_wait = PyUnicode_InternFromString("_wait")) == NULL
        || (str_woken = PyUnicode_InternFromString("_woken")) == NULL
        || (str_popleft = PyUnicode_InternFromString("popleft")) == NULL
        || (str_release = PyUnicode_InternFromString("release")) == NULL)
        return NULL;
    PyObject *m = PyModule_Create(&accel_module);
    if (m == NULL)
        return NULL;
    /* PyModule_AddType readies each type and adds it by its short name. */
    if (PyModule_AddType(m, &ChanBaseType) < 0 || PyModule_AddType(m, &SenderBaseType) < 0
        || PyModule_AddType(m, &ReceiverBaseType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
#ifdef Py_GIL_DISABLED
    PyUnstable_Module_SetGIL(m, Py_MOD_GIL_NOT_USED);
#endif
    return m;
}
