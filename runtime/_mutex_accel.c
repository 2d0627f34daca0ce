/* The hot path of fearless.Mutex in C, for CPython with and without the GIL.
 *
 * runtime/mutex.py defines Mutex and MutexGuard in Python and uses the types
 * here as their bases when this module imports (it was compiled for the
 * interpreter: a C compiler at install time, or `make test-ft` for the
 * free-threaded one); otherwise the Python definitions run alone, with the
 * same behaviour.  A round trip `with m.lock() as g: g.value += 1` then
 * runs no Python frame: lock(), __enter__, the value's getter and setter and
 * __exit__ are C, and the lock is the threading.Lock of `m._lock`, acquired
 * and released through its C methods.
 *
 * Thread safety, with or without the GIL: the protected value is read and
 * replaced only through a guard whose holder is the calling thread, i.e.
 * while `_lock` is held by it, whose acquire and release order those
 * accesses.  The fields other threads may read while the holder writes them
 * (the holder's ident, the poison flag, a guard's state and thread, read by
 * a thread that is refused) are single words accessed atomically (relaxed:
 * the lock does the ordering, these need only not tear), and the holder
 * writes them before it releases.  A guard's mutex is set when it is made
 * and never changes.  On a free-threaded build the module says it does not
 * need the GIL, so importing it leaves the GIL off.
 *
 * Behaviour is mutex.py's, message for message: see the docstrings there.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <pythread.h>

enum { STATE_NEW = 0, STATE_HELD = 1, STATE_DEAD = 2 };

#ifdef Py_GIL_DISABLED
#define LOAD(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)
#define STORE(field, v) __atomic_store_n(&(field), (v), __ATOMIC_RELAXED)
#else
#define LOAD(field) (field)
#define STORE(field, v) ((field) = (v))
#endif

typedef struct {
    PyObject_HEAD
    PyObject *lock;      /* threading.Lock (`_lock`) */
    PyObject *acquire;   /* its bound acquire / release */
    PyObject *release;
    PyObject *value;     /* the protected value (`_value`) */
    char poisoned;
    char held;           /* `owner` is valid */
    unsigned long owner; /* ident of the holding thread */
} MutexObject;

typedef struct {
    PyObject_HEAD
    MutexObject *mutex;  /* `_lock` */
    char blocking;
    char ignore_poison;
    char state;
    unsigned long thread; /* the holder's ident while HELD */
} GuardObject;

/* Set by register(): the Python subclasses and the runtime's exceptions. */
typedef struct {
    PyObject *guard_type;
    PyObject *poison_error;
    PyObject *dead_guard_error;
    PyObject *thread_bound_error;
    PyObject *would_block;
    PyObject *deadlock_error;
    PyObject *allocate_lock;
} Registry;

static Registry reg;

static PyTypeObject MutexBaseType;
static PyTypeObject GuardBaseType;

/* -- the guard ------------------------------------------------------------ */

static PyObject *
new_guard(MutexObject *m, int blocking, int ignore_poison)
{
    if (reg.guard_type == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "fearless._mutex_accel: register() was not called");
        return NULL;
    }
    PyTypeObject *type = (PyTypeObject *)reg.guard_type;
    GuardObject *g = (GuardObject *)type->tp_alloc(type, 0);
    if (g == NULL)
        return NULL;
    Py_INCREF(m);
    g->mutex = m;
    g->blocking = (char)blocking;
    g->ignore_poison = (char)ignore_poison;
    g->state = STATE_NEW;
    g->thread = 0;
    return (PyObject *)g;
}

static int
guard_init(GuardObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"lock", "blocking", "ignore_poison", NULL};
    PyObject *m;
    int blocking, ignore_poison;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!pp", kwlist, &MutexBaseType, &m, &blocking, &ignore_poison))
        return -1;
    Py_INCREF(m);
    Py_XSETREF(self->mutex, (MutexObject *)m);
    self->blocking = (char)blocking;
    self->ignore_poison = (char)ignore_poison;
    STORE(self->state, STATE_NEW);
    STORE(self->thread, 0);
    return 0;
}

static int
guard_traverse(GuardObject *self, visitproc visit, void *arg)
{
    Py_VISIT(self->mutex);
    return 0;
}

static int
guard_clear(GuardObject *self)
{
    Py_CLEAR(self->mutex);
    return 0;
}

/* The types here are static and their instances are of Python subclasses:
   the subclass's own traverse and dealloc (CPython's subtype_traverse and
   subtype_dealloc) visit and release the heap type, so these must not. */
static void
guard_dealloc(GuardObject *self)
{
    PyObject_GC_UnTrack(self);
    guard_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Raise the error of a guard that cannot be used by this thread now. */
static PyObject *
dead_guard(GuardObject *self)
{
    char state = LOAD(self->state);
    if (state == STATE_NEW) {
        PyErr_SetString(reg.dead_guard_error, "the guard is not entered: use it as `with m.lock() as g:`");
    } else if (state == STATE_DEAD) {
        PyErr_SetString(reg.dead_guard_error, "the guard's with block has ended: the lock is released");
    } else {
        PyErr_Format(reg.thread_bound_error, "the guard belongs to thread %lu, not %lu",
                     LOAD(self->thread), PyThread_get_thread_ident());
    }
    return NULL;
}

static PyObject *
release_lock(MutexObject *m)
{
    return PyObject_CallNoArgs(m->release);
}

static PyObject *
guard_enter(GuardObject *self, PyObject *Py_UNUSED(ignored))
{
    MutexObject *m = self->mutex;
    if (m == NULL)
        return dead_guard(self);
    if (m->acquire == NULL) { /* made with __new__ and never initialised */
        PyErr_SetString(PyExc_TypeError, "the Mutex was not initialised: make it with Mutex(value)");
        return NULL;
    }
    unsigned long me = PyThread_get_thread_ident();
    PyObject *got = PyObject_CallOneArg(m->acquire, Py_False);
    if (got == NULL)
        return NULL;
    int ok = PyObject_IsTrue(got);
    Py_DECREF(got);
    if (ok < 0)
        return NULL;
    if (!ok) {
        if (!self->blocking) {
            PyErr_SetString(reg.would_block, "the Mutex is locked");
            return NULL;
        }
        if (LOAD(m->held) && LOAD(m->owner) == me) {
            PyErr_SetString(reg.deadlock_error, "this thread already holds the Mutex");
            return NULL;
        }
        got = PyObject_CallNoArgs(m->acquire); /* blocks, the GIL released */
        if (got == NULL)
            return NULL;
        Py_DECREF(got);
    }
    /* The state moves only while the lock is held, so two threads cannot
       both enter one guard. */
    if (LOAD(self->state) != STATE_NEW) {
        PyObject *r = release_lock(m);
        if (r == NULL)
            return NULL;
        Py_DECREF(r);
        PyErr_SetString(reg.dead_guard_error, "a guard can be entered once: call lock() again");
        return NULL;
    }
    if (LOAD(m->poisoned) && !self->ignore_poison) {
        PyObject *r = release_lock(m);
        if (r == NULL)
            return NULL;
        Py_DECREF(r);
        PyObject *recover = new_guard(m, 1, 1);
        if (recover == NULL)
            return NULL;
        PyObject *err = PyObject_CallOneArg(reg.poison_error, recover);
        Py_DECREF(recover);
        if (err == NULL)
            return NULL;
        PyErr_SetObject((PyObject *)Py_TYPE(err), err);
        Py_DECREF(err);
        return NULL;
    }
    STORE(m->owner, me);
    STORE(m->held, 1);
    STORE(self->thread, me);
    STORE(self->state, STATE_HELD);
    Py_INCREF(self);
    return (PyObject *)self;
}

static PyObject *
guard_exit(GuardObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_Format(PyExc_TypeError, "__exit__ expected 3 arguments, got %zd", nargs);
        return NULL;
    }
    if (LOAD(self->state) != STATE_HELD)
        Py_RETURN_NONE;
    MutexObject *m = self->mutex;
    STORE(self->state, STATE_DEAD);
    STORE(self->thread, 0);
    if (args[0] != Py_None)
        STORE(m->poisoned, 1); /* the value may be half-updated */
    STORE(m->held, 0);
    STORE(m->owner, 0);
    PyObject *r = release_lock(m);
    if (r == NULL)
        return NULL;
    Py_DECREF(r);
    Py_RETURN_NONE;
}

static PyObject *
guard_get_value(GuardObject *self, void *Py_UNUSED(closure))
{
    if (LOAD(self->state) != STATE_HELD || LOAD(self->thread) != PyThread_get_thread_ident())
        return dead_guard(self);
    PyObject *v = self->mutex->value;
    Py_INCREF(v);
    return v;
}

static int
guard_set_value(GuardObject *self, PyObject *value, void *Py_UNUSED(closure))
{
    if (value == NULL) {
        PyErr_SetString(PyExc_AttributeError, "the protected value cannot be deleted");
        return -1;
    }
    if (LOAD(self->state) != STATE_HELD || LOAD(self->thread) != PyThread_get_thread_ident()) {
        dead_guard(self);
        return -1;
    }
    Py_INCREF(value);
    Py_SETREF(self->mutex->value, value);
    return 0;
}

static PyObject *
guard_repr(GuardObject *self)
{
    static const char *states[] = {"new", "held", "dead"};
    return PyUnicode_FromFormat("<%s %s at %p>", Py_TYPE(self)->tp_name, states[(int)LOAD(self->state)], self);
}

static PyObject *
guard_get_lock(GuardObject *self, void *Py_UNUSED(closure))
{
    if (self->mutex == NULL)
        Py_RETURN_NONE;
    Py_INCREF(self->mutex);
    return (PyObject *)self->mutex;
}

static PyMethodDef guard_methods[] = {
    {"__enter__", (PyCFunction)guard_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)(void (*)(void))guard_exit, METH_FASTCALL, NULL},
    {NULL}
};

static PyGetSetDef guard_getset[] = {
    {"value", (getter)guard_get_value, (setter)guard_set_value,
     "The protected value.  Raises DeadGuardError outside the ``with`` block, "
     "ThreadBoundError from another thread.", NULL},
    {"_lock", (getter)guard_get_lock, NULL, NULL, NULL},
    {NULL}
};

static PyTypeObject GuardBaseType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "fearless._mutex_accel.MutexGuardBase",
    .tp_basicsize = sizeof(GuardObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "The C part of fearless.MutexGuard.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)guard_init,
    .tp_traverse = (traverseproc)guard_traverse,
    .tp_clear = (inquiry)guard_clear,
    .tp_dealloc = (destructor)guard_dealloc,
    .tp_repr = (reprfunc)guard_repr,
    .tp_methods = guard_methods,
    .tp_getset = guard_getset,
};

/* -- the mutex ------------------------------------------------------------ */

static int
mutex_init(MutexObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"value", NULL};
    PyObject *value;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O", kwlist, &value))
        return -1;
    if (reg.allocate_lock == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "fearless._mutex_accel: register() was not called");
        return -1;
    }
    PyObject *lock = PyObject_CallNoArgs(reg.allocate_lock);
    if (lock == NULL)
        return -1;
    PyObject *acquire = PyObject_GetAttrString(lock, "acquire");
    PyObject *release = acquire ? PyObject_GetAttrString(lock, "release") : NULL;
    if (release == NULL) {
        Py_XDECREF(acquire);
        Py_DECREF(lock);
        return -1;
    }
    Py_XSETREF(self->lock, lock);
    Py_XSETREF(self->acquire, acquire);
    Py_XSETREF(self->release, release);
    Py_INCREF(value);
    Py_XSETREF(self->value, value);
    self->poisoned = 0;
    self->held = 0;
    self->owner = 0;
    return 0;
}

static int
mutex_traverse(MutexObject *self, visitproc visit, void *arg)
{
    Py_VISIT(self->value);
    Py_VISIT(self->lock);
    Py_VISIT(self->acquire);
    Py_VISIT(self->release);
    return 0;
}

static int
mutex_clear(MutexObject *self)
{
    Py_CLEAR(self->value);
    Py_CLEAR(self->acquire);
    Py_CLEAR(self->release);
    Py_CLEAR(self->lock);
    return 0;
}

static void
mutex_dealloc(MutexObject *self)
{
    PyObject_GC_UnTrack(self);
    mutex_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
mutex_lock(MutexObject *self, PyObject *Py_UNUSED(ignored))
{
    return new_guard(self, 1, 0);
}

static PyObject *
mutex_try_lock(MutexObject *self, PyObject *Py_UNUSED(ignored))
{
    return new_guard(self, 0, 0);
}

static PyObject *
mutex_is_poisoned(MutexObject *self, PyObject *Py_UNUSED(ignored))
{
    return PyBool_FromLong(LOAD(self->poisoned));
}

static PyObject *
mutex_clear_poison(MutexObject *self, PyObject *Py_UNUSED(ignored))
{
    STORE(self->poisoned, 0);
    Py_RETURN_NONE;
}

static PyObject *
mutex_repr(MutexObject *self)
{
    const char *state = LOAD(self->poisoned) ? "poisoned" : LOAD(self->held) ? "locked" : "unlocked";
    return PyUnicode_FromFormat("<Mutex %s at %p>", state, self);
}

static PyMethodDef mutex_methods[] = {
    {"lock", (PyCFunction)mutex_lock, METH_NOARGS, NULL},
    {"try_lock", (PyCFunction)mutex_try_lock, METH_NOARGS, NULL},
    {"is_poisoned", (PyCFunction)mutex_is_poisoned, METH_NOARGS, NULL},
    {"clear_poison", (PyCFunction)mutex_clear_poison, METH_NOARGS, NULL},
    {NULL}
};

static PyMemberDef mutex_members[] = {
    {"_lock", T_OBJECT, offsetof(MutexObject, lock), READONLY, NULL},
    {NULL}
};

static PyTypeObject MutexBaseType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "fearless._mutex_accel.MutexBase",
    .tp_basicsize = sizeof(MutexObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "The C part of fearless.Mutex.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)mutex_init,
    .tp_traverse = (traverseproc)mutex_traverse,
    .tp_clear = (inquiry)mutex_clear,
    .tp_dealloc = (destructor)mutex_dealloc,
    .tp_repr = (reprfunc)mutex_repr,
    .tp_methods = mutex_methods,
    .tp_members = mutex_members,
};

/* -- the module ----------------------------------------------------------- */

static PyObject *
accel_register(PyObject *Py_UNUSED(module), PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"guard_type", "poison_error", "dead_guard_error", "thread_bound_error",
                             "would_block", "deadlock_error", "allocate_lock", NULL};
    Registry r;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!OOOOOO", kwlist, &PyType_Type, &r.guard_type,
                                     &r.poison_error, &r.dead_guard_error, &r.thread_bound_error,
                                     &r.would_block, &r.deadlock_error, &r.allocate_lock))
        return NULL;
    if (!PyType_IsSubtype((PyTypeObject *)r.guard_type, &GuardBaseType)) {
        PyErr_SetString(PyExc_TypeError, "guard_type must derive from MutexGuardBase");
        return NULL;
    }
    Py_INCREF(r.guard_type);
    Py_INCREF(r.poison_error);
    Py_INCREF(r.dead_guard_error);
    Py_INCREF(r.thread_bound_error);
    Py_INCREF(r.would_block);
    Py_INCREF(r.deadlock_error);
    Py_INCREF(r.allocate_lock);
    Py_XDECREF(reg.guard_type);
    Py_XDECREF(reg.poison_error);
    Py_XDECREF(reg.dead_guard_error);
    Py_XDECREF(reg.thread_bound_error);
    Py_XDECREF(reg.would_block);
    Py_XDECREF(reg.deadlock_error);
    Py_XDECREF(reg.allocate_lock);
    reg = r;
    Py_RETURN_NONE;
}

static PyMethodDef accel_functions[] = {
    {"register", (PyCFunction)(void (*)(void))accel_register, METH_VARARGS | METH_KEYWORDS,
     "Give the module the Python guard class to make and the runtime's exceptions to raise."},
    {NULL}
};

static struct PyModuleDef accel_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "fearless._mutex_accel",
    .m_doc = "The hot path of fearless.Mutex in C; see runtime/mutex.py.",
    .m_size = -1,
    .m_methods = accel_functions,
};

PyMODINIT_FUNC
PyInit__mutex_accel(void)
{
    PyObject *m = PyModule_Create(&accel_module);
    if (m == NULL)
        return NULL;
    /* PyModule_AddType readies each type and adds it by its short name. */
    if (PyModule_AddType(m, &MutexBaseType) < 0 || PyModule_AddType(m, &GuardBaseType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
#ifdef Py_GIL_DISABLED
    PyUnstable_Module_SetGIL(m, Py_MOD_GIL_NOT_USED);
#endif
    return m;
}
